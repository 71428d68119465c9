// The command hook, for one machine: runs the configured program with the call's fields in
// place of "{action}", "{session}", "{container}", "{request_id}" (and as SESSIONGATE_ACTION,
// SESSIONGATE_SESSION, SESSIONGATE_CONTAINER, SESSIONGATE_REQUEST_ID in its environment).
// Exit status 0 is success. Waited for without a thread: the child's pidfd is watched on the
// control plane's loop, and a child still running at wake.webhook.timeout is killed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "lifecycle/hook.h"
#include "lifecycle/wake_settings.h"

namespace sg::lifecycle {

class CommandHook : public Hook {
 public:
  CommandHook(boost::asio::io_context& io, std::vector<std::string> argv, Millis timeout)
      : io_(io), argv_(std::move(argv)), timeout_(timeout) {}
  void call(const HookCall& c, std::function<void(HookResult)> done) override;
  std::string describe() const override { return "command " + argv_.front(); }

  // argv with the placeholders filled in.
  static std::vector<std::string> expand(const std::vector<std::string>& argv, const HookCall& c);

 private:
  boost::asio::io_context& io_;
  std::vector<std::string> argv_;
  Millis timeout_;
};

}  // namespace sg::lifecycle
