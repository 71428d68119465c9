#include "admin/api_support.h"

#include "common/duration.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace sg::admin {

using registry::Container;
using registry::Millis;
using registry::Session;

Response json_response(int status, const json::value& v) {
  Response r;
  r.status = status;
  r.body = json::serialize(v);
  r.body += "\n";
  return r;
}

namespace {

// Messages echo paths and query keys the client sent; only printable ASCII goes back, so the
// answer is always valid JSON (UTF-8) whatever bytes came in.
std::string printable(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

Response error(int status, std::string_view code, std::string_view message,
               std::string_view field) {
  json::object o;
  o["error"] = code;
  o["message"] = printable(message);
  if (!field.empty()) o["field"] = printable(field);
  return json_response(status, o);
}

Response validation(std::string_view field, std::string_view message) {
  return error(400, "validation", message, field);
}

json::object container_json(const Container& c) {
  json::object o;
  o["id"] = c.id;
  o["address"] = c.address_text;
  o["status"] = registry::to_string(c.status);
  // What routing makes of it now: a ready container past its lease is not served.
  const bool alive_status = c.status == registry::ContainerStatus::kReady ||
                            c.status == registry::ContainerStatus::kDraining;
  o["state"] = alive_status && registry::now_ms() >= c.heartbeat_at + c.lease_ttl
                   ? "lease_expired"
                   : registry::to_string(c.status);
  o["generation"] = c.generation;
  o["lease_ttl_ms"] = c.lease_ttl;
  o["heartbeat_at"] = c.heartbeat_at;
  o["lease_expires_at"] = c.heartbeat_at + c.lease_ttl;
  o["created_at"] = c.created_at;
  o["updated_at"] = c.updated_at;
  return o;
}

json::object session_json(const Session& s) {
  json::object o;
  o["id"] = s.id;
  o["container_id"] = s.container_id;
  json::object labels;
  for (const auto& [k, v] : s.labels) labels[k] = v;
  o["labels"] = labels;
  o["idle_ttl_ms"] = s.idle_ttl;
  o["sleep_after_ms"] = s.sleep_after;  // 0: the router's sessions.sleep_after; -1: never
  o["expires_at"] = s.expires_at;
  o["last_active_at"] = s.last_active_at;
  o["created_at"] = s.created_at;
  o["updated_at"] = s.updated_at;
  o["access"] = s.access.empty() ? "default" : s.access;
  o["link_epoch"] = s.link_epoch;
  return o;
}

bool method_in(std::string_view method, std::string_view allow) {
  for (size_t at = 0; at <= allow.size();) {
    size_t end = allow.find(", ", at);
    if (end == std::string_view::npos) end = allow.size();
    if (allow.substr(at, end - at) == method) return true;
    at = end + 2;
  }
  return false;
}

std::string_view json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

bool read_duration(const json::value& v, Millis& out) {
  if (v.is_int64() && v.as_int64() >= 0) {
    out = v.as_int64();
    return true;
  }
  if (v.is_uint64()) {
    out = static_cast<Millis>(v.as_uint64());
    return true;
  }
  if (!v.is_string()) return false;
  int64_t ms = 0;
  if (!parse_duration_ms(v.as_string(), ms)) return false;
  out = ms;
  return true;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 1;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    parts.emplace_back(path.substr(i, slash == std::string_view::npos ? slash : slash - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return parts;
}

namespace {

std::string url_decode(std::string_view s, bool& ok) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  std::string out;
  ok = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
        ok = false;
        return out;
      }
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool parse_query(std::string_view q, std::vector<std::pair<std::string, std::string>>& out) {
  size_t i = 0;
  while (i < q.size()) {
    size_t amp = q.find('&', i);
    std::string_view kv = q.substr(i, amp == std::string_view::npos ? amp : amp - i);
    size_t eq = kv.find('=');
    bool ok1 = true, ok2 = true;
    std::string k = url_decode(kv.substr(0, eq), ok1);
    std::string v = eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1), ok2);
    if (!ok1 || !ok2) return false;
    if (!kv.empty()) out.emplace_back(std::move(k), std::move(v));
    if (amp == std::string_view::npos) break;
    i = amp + 1;
  }
  return true;
}

std::optional<Response> parse_object(const Request& req, json::object& out,
                                     std::initializer_list<std::string_view> allowed) {
  if (req.body.empty()) return validation("body", "a JSON object body is required");
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return error(400, "invalid_json", "the body is not valid JSON: " + ec.message());
  if (!v.is_object()) return validation("body", "the body must be a JSON object");
  out = std::move(v.as_object());
  for (const auto& kv : out) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(kv.key())) == allowed.end()) {
      return validation(kv.key(), "unknown field '" + std::string(kv.key()) + "'");
    }
  }
  return std::nullopt;
}

Response method_not_allowed(std::string_view allow) {
  Response r = error(405, "method_not_allowed", "allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

Response store_failure(const registry::StoreError& e, observe::ControlMetrics* m) {
  if (m) m->store_errors.add();
  Response r;
  if (e.timed_out) {
    if (m) m->store_timeouts.add();
    // The write may have been applied or not; every write is idempotent, so a retry is safe
    // and leaves one record either way (docs/deployment.md, "Store outages").
    r = error(503, "store_timeout",
              "the registry store did not answer in time (" + e.message +
                  "); the change may or may not have been made: retry it");
  } else {
    r = error(503, "store_unavailable", "the registry store failed: " + e.message);
  }
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace sg::admin
