// Registry records: containers (where a dev server runs) and sessions (which container serves
// a chat thread). Times are milliseconds since the Unix epoch.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sg::registry {

using Millis = int64_t;  // ms since epoch, or a duration in ms

// kSleeping: stopped on purpose while nobody looks; the session keeps its route and a request
// wakes it (when wake-on-request is configured).
enum class ContainerStatus : uint8_t { kStarting, kReady, kDraining, kStopped, kFailed, kSleeping };

std::string_view to_string(ContainerStatus s);
std::optional<ContainerStatus> parse_status(std::string_view s);

struct Container {
  std::string id;
  boost::asio::ip::tcp::endpoint address;
  std::string address_text;  // canonical "IP:PORT" / "[IPv6]:PORT"
  ContainerStatus status = ContainerStatus::kStarting;
  uint64_t generation = 0;  // bumped on every registration
  Millis lease_ttl = 30000;
  Millis heartbeat_at = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
  uint64_t version = 0;  // store-wide change version of the last write
};

enum class Access : uint8_t { kPublic, kLink };

struct Session {
  std::string id;
  std::string access;        // "public", "link", or "" for the configured default
  uint64_t link_epoch = 0;   // links signed for an older epoch are revoked; never decreases
  std::string container_id;  // may name a container that does not exist yet
  std::map<std::string, std::string> labels;
  Millis idle_ttl = 0;  // 0 = never idles out
  // Its container may sleep after this long without activity: 0 = the router's
  // sessions.sleep_after, -1 = never (a session that must stay warm keeps its container up).
  Millis sleep_after = 0;
  Millis expires_at = 0;  // 0 = no absolute expiry
  Millis last_active_at = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
  uint64_t version = 0;
};

// Labels as stored: a JSON object of strings. from_json is false on anything else.
std::string labels_to_json(const std::map<std::string, std::string>& labels);
bool labels_from_json(std::string_view json, std::map<std::string, std::string>& out);

// Ids: the thread id charset, 1..128 characters.
bool valid_id(std::string_view id);

// Milliseconds since the Unix epoch, wall clock.
Millis now_ms();

}  // namespace sg::registry
