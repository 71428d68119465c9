// How sessiongate asks the platform to start and stop containers (wake-on-request and sleep),
// and how long and how many requests it holds meanwhile. Parsed from the `wake:` section.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sg::lifecycle {

using Millis = std::chrono::milliseconds;

// A plain-HTTP webhook: the platform's orchestrator, on a network the operator controls.
struct WebhookTarget {
  std::string url;  // as configured, for messages
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  std::string secret;  // HMAC-SHA256 key for X-Sessiongate-Signature; empty: unsigned
  bool operator==(const WebhookTarget&) const = default;
};

struct WakeSettings {
  bool enabled = false;  // a webhook or a command is configured
  WebhookTarget webhook;
  // argv of a local hook; "{action}", "{session}", "{container}", "{request_id}" are replaced.
  std::vector<std::string> command;
  Millis timeout{5000};  // one webhook call or command run
  Millis hold_timeout{30000};
  // A browser navigation waits at most this long before it gets the live starting page
  // (which then waits on the router itself): a quick wake looks seamless, a slow one shows
  // what is happening instead of a blank tab.
  Millis navigation_hold{2000};
  size_t max_held_per_session = 256;
  size_t max_held = 10000;
  size_t max_held_bytes = 64u << 20;
  int retries = 3;  // further attempts after a failed call, with doubling backoff
  Millis retry_backoff{200};
  int breaker_failures = 5;  // consecutive failed wakes that open the circuit
  Millis breaker_cooldown{30000};
  Millis sleep_after{0};  // sessions.sleep_after; 0 = containers never sleep
  bool uses_webhook() const { return !webhook.host.empty(); }
  bool operator==(const WakeSettings&) const = default;
};

}  // namespace sg::lifecycle
