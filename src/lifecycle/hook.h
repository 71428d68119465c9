// The platform hook: how sessiongate asks the platform to start ("start") or stop ("stop") a
// session's container. A webhook (webhook.h) or a local command (command_hook.h); both run on
// the control plane's loop and never block it.
#pragma once

#include <functional>
#include <string>

namespace sg::lifecycle {

struct HookCall {
  std::string action;  // "start" | "stop"
  std::string session;
  std::string container;
  std::string reason;      // "request" (a held request), "idle" (sessions.sleep_after)
  std::string request_id;  // the triggering request's X-Request-Id, or a generated id
};

struct HookResult {
  bool ok = false;
  // Why it failed, as a class a page and a metric can show: timeout, refused, rejected (4xx),
  // error (5xx or a broken answer), command_failed.
  std::string failure;
  std::string detail;      // for the log
  bool retryable = false;  // 4xx other than 408/429 is the platform saying no: not retried
};

class Hook {
 public:
  virtual ~Hook() = default;
  // Calls the platform; `done` runs on the same loop exactly once.
  virtual void call(const HookCall& c, std::function<void(HookResult)> done) = 0;
  virtual std::string describe() const = 0;
};

// The JSON body both hooks carry (the webhook as its body, the command on its stdin is not
// used: it gets placeholders and environment variables instead).
std::string hook_body(const HookCall& c);

}  // namespace sg::lifecycle
