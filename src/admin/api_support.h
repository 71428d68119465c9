// What every admin API resource handler shares: JSON answers and errors, record views,
// duration and query parsing, and the GET/DELETE of one record (the same for every resource).
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/api.h"
#include "registry/records.h"

namespace sg::admin {

namespace json = boost::json;

Response json_response(int status, const json::value& v);
Response error(int status, std::string_view code, std::string_view message,
               std::string_view field = {});
Response validation(std::string_view field, std::string_view message);
Response method_not_allowed(std::string_view allow);
// Whether `method` is one of `allow` ("GET, PUT, DELETE").
bool method_in(std::string_view method, std::string_view allow);
// "a number", "an object", ...: for messages about a field of the wrong type.
std::string_view json_kind(const json::value& v);
Response store_failure(const registry::StoreError& e, observe::ControlMetrics* m);

json::object container_json(const registry::Container& c);
json::object session_json(const registry::Session& s);

// Durations: a number of milliseconds or a string like "30s", "5m".
bool read_duration(const json::value& v, registry::Millis& out);
std::vector<std::string> split_path(std::string_view path);
// Query parameters; false on malformed encoding.
bool parse_query(std::string_view q, std::vector<std::pair<std::string, std::string>>& out);
// Parses a JSON object body; on failure returns the 400 to send.
std::optional<Response> parse_object(const Request& req, json::object& out,
                                     std::initializer_list<std::string_view> allowed);

// GET (200 with the record's JSON) or DELETE (204) of the record `id` of a resource named
// `what` ("container", "session"); 404 when there is none. `counters` counts the write.
template <typename Record, typename Get, typename Delete, typename ToJson>
Response get_or_delete(const Request& req, std::string_view what, const std::string& id, Get get,
                       Delete del, ToJson to_json, observe::ControlMetrics* counters) {
  const auto not_found = [&] {
    return error(404, "not_found", "no " + std::string(what) + " '" + id + "'");
  };
  if (req.method == "GET") {
    std::optional<Record> r;
    if (auto e = get(id, r)) return store_failure(e, counters);
    if (!r) return not_found();
    return json_response(200, to_json(*r));
  }
  bool found = false;
  if (counters) counters->store_ops.add();
  if (auto e = del(id, found)) return store_failure(e, counters);
  if (!found) return not_found();
  Response r;
  r.status = 204;
  return r;
}

}  // namespace sg::admin
