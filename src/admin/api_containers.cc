// /v1/containers: register (PUT), heartbeat, show, delete and list containers.
#include <charconv>

#include "admin/api_support.h"
#include "net/address.h"
#include "registry/route.h"

namespace sg::admin {

using registry::Container;
using registry::Millis;
using registry::Session;

Response Api::containers(const Request& req, const std::vector<std::string>& parts,
                         const ApiLive& live) {
  auto& store = registry_.store();
  if (parts.size() == 2) {
    if (req.method != "GET") return method_not_allowed("GET");
    std::vector<Container> all;
    if (auto e = store.list_containers(all)) return store_failure(e, settings_.counters);
    json::array list;
    for (const auto& c : all) list.push_back(container_json(c));
    return json_response(200, json::object{{"containers", list}});
  }
  // The resource and the method first, then the id: a wrong method is 405 whatever the id.
  const bool action = parts.size() == 4 && (parts[3] == "heartbeat" || parts[3] == "tokens");
  if (parts.size() != 3 && !action) return error(404, "not_found", "no such endpoint: " + req.path);
  const std::string_view allow = action ? "POST" : "GET, PUT, DELETE";
  if (!method_in(req.method, allow)) return method_not_allowed(allow);
  const std::string& id = parts[2];
  if (!registry::valid_id(id)) {
    return validation("id", "container ids are 1-128 characters of A-Z a-z 0-9 _ -");
  }
  if (parts.size() == 4 && parts[3] == "tokens") return mint_token(req, id);
  if (parts.size() == 4) {  // heartbeat
    Container c;
    bool found = false;
    count_write();
    if (auto e = store.heartbeat(id, registry::now_ms(), c, found))
      return store_failure(e, settings_.counters);
    if (found && settings_.counters) settings_.counters->heartbeats.add();
    // A store that lost the container (reset, deleted): the caller's registration loop
    // re-registers.
    if (!found) {
      return error(404, "unknown_container", "no container '" + id + "'; register it again");
    }
    return json_response(200, container_json(c));
  }
  if (req.method == "GET" || req.method == "DELETE") {
    return get_or_delete<Container>(
        req, "container", id,
        [&](const std::string& k, std::optional<Container>& out) {
          return store.get_container(k, out);
        },
        [&](const std::string& k, bool& found) { return store.delete_container(k, found); },
        container_json, settings_.counters);
  }
  return put_container(req, id, live);
}

Response Api::put_container(const Request& req, const std::string& id, const ApiLive& live) {
  auto& store = registry_.store();
  json::object body;
  if (auto bad = parse_object(req, body, {"address", "status", "lease_ttl"})) return *bad;
  Container c;
  c.id = id;
  const json::value* addr = body.if_contains("address");
  if (!addr) {
    return validation("address", "address is required: an IP literal and port, e.g. 10.0.3.7:4321");
  }
  if (!addr->is_string()) {
    return validation("address",
                      "address must be a string \"IP:PORT\" (e.g. \"10.0.3.7:4321\"), not " +
                          std::string(json_kind(*addr)));
  }
  c.address_text = std::string(addr->as_string());
  if (std::string why = net::endpoint_problem(c.address_text, c.address); !why.empty()) {
    return validation("address", "address '" + c.address_text + "': " + why);
  }
  c.address_text = net::format_endpoint(c.address);
  if (std::string why = live.policy.check(c.address); !why.empty()) {
    return validation("address", why);
  }
  c.status = registry::ContainerStatus::kReady;
  if (const json::value* st = body.if_contains("status")) {
    auto parsed = st->is_string() ? registry::parse_status(st->as_string()) : std::nullopt;
    if (!parsed) {
      return validation(
          "status", "status must be one of starting, ready, draining, stopped, failed, sleeping");
    }
    c.status = *parsed;
  }
  c.lease_ttl = settings_.default_lease;
  if (const json::value* l = body.if_contains("lease_ttl")) {
    if (!read_duration(*l, c.lease_ttl) || c.lease_ttl < 1000 || c.lease_ttl > 86400000) {
      return validation("lease_ttl", "lease_ttl must be a duration from 1s to 24h (\"30s\" or ms)");
    }
  }
  std::optional<Container> prev;
  if (auto e = store.get_container(id, prev)) return store_failure(e, settings_.counters);
  const bool existed = prev.has_value();
  count_write();
  if (auto e = store.put_container(c)) return store_failure(e, settings_.counters);
  if (settings_.counters) settings_.counters->container_registrations.add();
  return json_response(existed ? 200 : 201, container_json(c));
}

}  // namespace sg::admin
