// The webhook hook: one HTTP/1.1 POST per call (Connection: close; calls are rare and a
// platform's orchestrator may sit behind anything), signed with the shared secret, bounded by
// wake.webhook.timeout from the name lookup to the response's status line. The target is
// operator configuration: it is not subject to the container address policy, and nothing in
// a request can change where it goes.
#pragma once

#include <boost/asio/io_context.hpp>

#include "lifecycle/hook.h"
#include "lifecycle/wake_settings.h"

namespace sg::lifecycle {

class WebhookHook : public Hook {
 public:
  WebhookHook(boost::asio::io_context& io, WebhookTarget target, Millis timeout)
      : io_(io), target_(std::move(target)), timeout_(timeout) {}
  void call(const HookCall& c, std::function<void(HookResult)> done) override;
  std::string describe() const override { return "webhook " + target_.url; }

  // The request bytes for `body` at `timestamp` (unix seconds).
  std::string request(const std::string& body, long long timestamp) const;

 private:
  boost::asio::io_context& io_;
  WebhookTarget target_;
  Millis timeout_;
};

// The status code of an HTTP/1.x status line at the start of `head`; 0 when malformed.
int response_status(std::string_view head);

// What a finished call's status means.
HookResult result_of_status(int status);

}  // namespace sg::lifecycle
