// /v1/routes/{session}: what a request for the session would reach now, and why.
#include <charconv>

#include "admin/api_support.h"
#include "net/address.h"
#include "registry/route.h"

namespace sg::admin {

using registry::Container;
using registry::Millis;
using registry::Session;

Response Api::routes(const Request& req, const std::vector<std::string>& parts) {
  if (parts.size() != 3) {
    return error(404, "not_found", "no such endpoint: " + req.path + " (use /v1/routes/{session})");
  }
  if (req.method != "GET") return method_not_allowed("GET");
  const std::string& id = parts[2];
  if (!registry::valid_id(id)) return validation("id", "invalid session id");
  registry::RoutePtr r = registry_.route(id);
  json::object o;
  o["session"] = id;
  if (!r) {
    o["state"] = "unknown_session";
    o["reason"] = "no session with this id: requests get the 404 unknown-session page";
    return json_response(200, o);
  }
  auto state = registry::state_of(*r, registry::now_ms());
  o["state"] = registry::to_string(state);
  o["container_id"] = r->container_id;
  if (r->has_container) {
    o["address"] = r->address_text;
    o["generation"] = r->generation;
    o["lease_expires_at"] = r->lease_deadline;
  }
  switch (state) {
    case registry::RouteState::kReady:
      o["reason"] = "requests are forwarded to " + r->address_text;
      break;
    case registry::RouteState::kNoContainer:
      o["reason"] = "container '" + r->container_id +
                    "' has not registered: requests get the 503 starting page";
      break;
    case registry::RouteState::kStarting:
      o["reason"] = "container is starting: requests get the 503 starting page";
      break;
    case registry::RouteState::kStopped:
    case registry::RouteState::kFailed:
      o["reason"] = "container is stopped or failed: requests get the 503 unavailable page";
      break;
    case registry::RouteState::kSleeping:
      o["reason"] =
          "container is sleeping: with wake configured a request wakes it and waits; without, "
          "requests get the 503 unavailable page";
      break;
    case registry::RouteState::kContainerDeleted:
      o["reason"] = "container '" + r->container_id +
                    "' was deleted: requests get the 503 unavailable page (or wake it, with wake "
                    "configured) until a container registers under that id";
      break;
    case registry::RouteState::kLeaseExpired:
      o["reason"] =
          "container missed its heartbeats (lease expired): requests get the 503 "
          "unavailable page until it heartbeats again";
      break;
  }
  return json_response(200, o);
}

}  // namespace sg::admin
