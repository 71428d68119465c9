#include "lifecycle/hook.h"

#include <boost/json.hpp>

namespace sg::lifecycle {

std::string hook_body(const HookCall& c) {
  boost::json::object o;
  o["action"] = c.action;
  o["session"] = c.session;
  o["container"] = c.container;
  o["reason"] = c.reason;
  o["request_id"] = c.request_id;
  return boost::json::serialize(o);
}

}  // namespace sg::lifecycle
