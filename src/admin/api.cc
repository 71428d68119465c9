#include "admin/api.h"

#include <boost/json.hpp>
#include <charconv>

#include "net/address.h"
#include "registry/route.h"

namespace sg::admin {

namespace json = boost::json;
using registry::Container;
using registry::Millis;
using registry::Session;

namespace {

Response json_response(int status, const json::value& v) {
  Response r;
  r.status = status;
  r.body = json::serialize(v);
  r.body += "\n";
  return r;
}

// Messages echo paths and query keys the client sent; only printable ASCII goes back, so the
// answer is always valid JSON (UTF-8) whatever bytes came in.
std::string printable(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return out;
}

Response error(int status, std::string_view code, std::string_view message,
               std::string_view field = {}) {
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
  o["expires_at"] = s.expires_at;
  o["last_active_at"] = s.last_active_at;
  o["created_at"] = s.created_at;
  o["updated_at"] = s.updated_at;
  o["access"] = s.access.empty() ? "default" : s.access;
  o["link_epoch"] = s.link_epoch;
  return o;
}

// Durations: a number of milliseconds or a string like "30s", "5m".
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
  std::string_view s = v.as_string();
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + i, n);
  if (i == 0 || i > 12 || ec != std::errc()) return false;
  std::string_view unit = s.substr(i);
  int64_t mult = unit == "ms"  ? 1
                 : unit == "s" ? 1000
                 : unit == "m" ? 60000
                 : unit == "h" ? 3600000
                 : unit == "d" ? 86400000
                               : 0;
  if (mult == 0) return false;
  out = n * mult;
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

// Query parameters; false on malformed encoding.
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

// Parses a JSON object body; on failure returns the 400 to send.
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

}  // namespace

Api::Api(registry::Registry& registry, ApiSettings settings)
    : registry_(registry), settings_(std::move(settings)) {}

bool Api::token_matches(std::string_view presented, std::string_view expected) {
  // Every byte of the expected token is always compared, whatever the presented length.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

Response Api::handle(const Request& req) {
  if (req.path == "/healthz") return json_response(200, json::object{{"status", "ok"}});
  if (req.path == "/readyz") {
    const Readiness r = settings_.ready ? settings_.ready() : Readiness{};
    json::object o{{"status", r.ready ? "ready" : "not_ready"},
                   {"routes", registry_.route_count()},
                   {"store", r.store_ok ? "ok" : "unreachable"},
                   {"routes_current", r.routes_current}};
    if (!r.detail.empty()) o["detail"] = r.detail;
    return json_response(r.ready ? 200 : 503, o);
  }
  std::string auth = req.header("authorization");
  const std::string_view prefix = "Bearer ";
  if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0 ||
      !token_matches(std::string_view(auth).substr(prefix.size()), settings_.token)) {
    Response r = error(401, "unauthorized", "send Authorization: Bearer <admin token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sessiongate\"");
    return r;
  }
  if (req.path == "/metrics") {
    if (req.method != "GET") return error(405, "method_not_allowed", "allowed: GET");
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = settings_.metrics ? settings_.metrics() : std::string();
    return r;
  }
  std::vector<std::string> parts = split_path(req.path);
  if (parts.size() >= 2 && parts[0] == "v1") {
    if (parts[1] == "containers") return containers(req, parts);
    if (parts[1] == "sessions") return sessions(req, parts);
    if (parts[1] == "routes") return routes(req, parts);
  }
  return error(404, "not_found", "no such endpoint: " + req.path);
}

namespace {

Response method_not_allowed(std::string_view allow) {
  Response r = error(405, "method_not_allowed", "allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

Response store_failure(const registry::StoreError& e, observe::ControlMetrics* m) {
  if (m) m->store_errors.add();
  return error(503, "store_unavailable", "the registry store failed: " + e.message);
}

}  // namespace

Response Api::containers(const Request& req, const std::vector<std::string>& parts) {
  auto& store = registry_.store();
  if (parts.size() == 2) {
    if (req.method != "GET") return method_not_allowed("GET");
    std::vector<Container> all;
    if (auto e = store.list_containers(all)) return store_failure(e, settings_.counters);
    json::array list;
    for (const auto& c : all) list.push_back(container_json(c));
    return json_response(200, json::object{{"containers", list}});
  }
  const std::string& id = parts[2];
  if (!registry::valid_id(id)) {
    return validation("id", "container ids are 1-128 characters of A-Z a-z 0-9 _ -");
  }
  if (parts.size() == 4 && parts[3] == "heartbeat") {
    if (req.method != "POST") return method_not_allowed("POST");
    Container c;
    bool found = false;
    count_write();
    if (auto e = store.heartbeat(id, registry::now_ms(), c, found))
      return store_failure(e, settings_.counters);
    if (found && settings_.counters) settings_.counters->heartbeats.add();
    if (!found) return error(404, "not_found", "no container '" + id + "'; register it first");
    return json_response(200, container_json(c));
  }
  if (parts.size() != 3) return error(404, "not_found", "no such endpoint: " + req.path);
  if (req.method == "GET") {
    std::optional<Container> c;
    if (auto e = store.get_container(id, c)) return store_failure(e, settings_.counters);
    if (!c) return error(404, "not_found", "no container '" + id + "'");
    return json_response(200, container_json(*c));
  }
  if (req.method == "DELETE") {
    bool found = false;
    count_write();
    if (auto e = store.delete_container(id, found)) return store_failure(e, settings_.counters);
    if (!found) return error(404, "not_found", "no container '" + id + "'");
    Response r;
    r.status = 204;
    return r;
  }
  if (req.method != "PUT") return method_not_allowed("GET, PUT, DELETE");
  json::object body;
  if (auto bad = parse_object(req, body, {"address", "status", "lease_ttl"})) return *bad;
  Container c;
  c.id = id;
  const json::value* addr = body.if_contains("address");
  if (!addr || !addr->is_string()) {
    return validation("address", "address is required: an IP literal and port, e.g. 10.0.3.7:4321");
  }
  c.address_text = std::string(addr->as_string());
  if (!net::parse_endpoint(c.address_text, c.address)) {
    return validation(
        "address",
        "'" + c.address_text + "' is not IP:PORT (an IP literal; host names are not accepted)");
  }
  c.address_text = net::format_endpoint(c.address);
  if (std::string why = settings_.policy.check(c.address); !why.empty()) {
    return validation("address", why);
  }
  c.status = registry::ContainerStatus::kReady;
  if (const json::value* st = body.if_contains("status")) {
    auto parsed = st->is_string() ? registry::parse_status(st->as_string()) : std::nullopt;
    if (!parsed) {
      return validation("status",
                        "status must be one of starting, ready, draining, stopped, failed");
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

Response Api::sessions(const Request& req, const std::vector<std::string>& parts) {
  auto& store = registry_.store();
  if (parts.size() == 2) {
    if (req.method != "GET") return method_not_allowed("GET");
    std::vector<std::pair<std::string, std::string>> params;
    if (!parse_query(req.query, params)) return validation("query", "malformed query string");
    registry::SessionQuery q;
    for (const auto& [k, v] : params) {
      if (k == "label") {
        size_t eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
          return validation("label", "label filter must be key=value");
        }
        q.label_key = v.substr(0, eq);
        q.label_value = v.substr(eq + 1);
      } else if (k == "limit") {
        size_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 1000) {
          return validation("limit", "limit must be 1 to 1000");
        }
        q.limit = n;
      } else if (k == "after") {
        q.after = v;
      } else {
        return validation(k, "unknown query parameter '" + k + "' (known: label, limit, after)");
      }
    }
    std::vector<Session> list;
    if (auto e = store.list_sessions(q, list)) return store_failure(e, settings_.counters);
    json::array arr;
    for (const auto& s : list) arr.push_back(session_json(s));
    json::object o{{"sessions", arr}};
    o["next"] = list.size() == q.limit ? json::value(list.back().id) : json::value(nullptr);
    return json_response(200, o);
  }
  const std::string& id = parts[2];
  if (!registry::valid_id(id)) {
    return validation("id", "session ids are 1-128 characters of A-Z a-z 0-9 _ -");
  }
  if (parts.size() == 4 && (parts[3] == "links" || parts[3] == "revoke-links")) {
    if (req.method != "POST") return method_not_allowed("POST");
    std::optional<Session> s;
    if (auto e = store.get_session(id, s)) return store_failure(e, settings_.counters);
    if (!s) return error(404, "not_found", "no session '" + id + "'");
    if (parts[3] == "revoke-links") {
      // A new epoch invalidates every link and cookie issued before, on every router.
      ++s->link_epoch;
      count_write();
      if (auto e = store.put_session(*s)) return store_failure(e, settings_.counters);
      return json_response(200, json::object{{"session", id}, {"link_epoch", s->link_epoch}});
    }
    if (!settings_.links || !settings_.links->can_sign()) {
      return error(409, "no_signing_key", "configure security.link_keys to issue preview links");
    }
    Millis ttl = 3600000;
    if (!req.body.empty()) {
      json::object body;
      if (auto bad = parse_object(req, body, {"ttl"})) return *bad;
      if (const json::value* t = body.if_contains("ttl")) {
        if (!read_duration(*t, ttl) || ttl < 1000 || ttl > 30LL * 86400000) {
          return validation("ttl", "ttl must be a duration from 1s to 30d");
        }
      }
    }
    const int64_t expires_s = (registry::now_ms() + ttl + 999) / 1000;
    std::string token = settings_.links->issue(id, expires_s, s->link_epoch);
    return json_response(201, json::object{{"session", id},
                                           {"token", token},
                                           {"expires_at", expires_s * 1000},
                                           {"query", settings_.token_param + "=" + token}});
  }
  if (parts.size() != 3) return error(404, "not_found", "no such endpoint: " + req.path);
  if (req.method == "GET") {
    std::optional<Session> s;
    if (auto e = store.get_session(id, s)) return store_failure(e, settings_.counters);
    if (!s) return error(404, "not_found", "no session '" + id + "'");
    return json_response(200, session_json(*s));
  }
  if (req.method == "DELETE") {
    bool found = false;
    count_write();
    if (auto e = store.delete_session(id, found)) return store_failure(e, settings_.counters);
    if (!found) return error(404, "not_found", "no session '" + id + "'");
    Response r;
    r.status = 204;
    return r;
  }
  if (req.method != "PUT") return method_not_allowed("GET, PUT, DELETE");
  json::object body;
  if (auto bad = parse_object(
          req, body,
          {"container_id", "labels", "idle_ttl", "expires_at", "expires_in", "access"})) {
    return *bad;
  }
  Session s;
  s.id = id;
  const json::value* cid = body.if_contains("container_id");
  if (!cid || !cid->is_string() || !registry::valid_id(cid->as_string())) {
    return validation("container_id",
                      "container_id is required: 1-128 characters of A-Z a-z 0-9 _ -");
  }
  s.container_id = std::string(cid->as_string());
  if (const json::value* a = body.if_contains("access")) {
    if (!a->is_string() ||
        (a->as_string() != "public" && a->as_string() != "link" && a->as_string() != "default")) {
      return validation("access", "access must be public, link or default");
    }
    s.access = a->as_string() == "default" ? "" : std::string(a->as_string());
  }
  if (const json::value* labels = body.if_contains("labels")) {
    if (!labels->is_object()) return validation("labels", "labels must be an object of strings");
    for (const auto& kv : labels->as_object()) {
      if (!kv.value().is_string() || kv.key().empty() || kv.key().size() > 128 ||
          kv.value().as_string().size() > 1024) {
        return validation("labels", "label '" + std::string(kv.key()) +
                                        "' must have a 1-128 character key and a string value "
                                        "of at most 1024 characters");
      }
      s.labels[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    if (s.labels.size() > 64) return validation("labels", "at most 64 labels");
  }
  if (const json::value* t = body.if_contains("idle_ttl")) {
    if (!read_duration(*t, s.idle_ttl) || (s.idle_ttl != 0 && s.idle_ttl < 1000)) {
      return validation("idle_ttl", "idle_ttl must be 0 (never) or a duration of at least 1s");
    }
  }
  if (body.contains("expires_at") && body.contains("expires_in")) {
    return validation("expires_at", "give expires_at or expires_in, not both");
  }
  if (const json::value* e = body.if_contains("expires_at")) {
    if (!e->is_int64() || e->as_int64() < 0) {
      return validation("expires_at", "expires_at must be milliseconds since the Unix epoch");
    }
    s.expires_at = e->as_int64();
  }
  if (const json::value* e = body.if_contains("expires_in")) {
    Millis d = 0;
    if (!read_duration(*e, d) || d < 1000) {
      return validation("expires_in", "expires_in must be a duration of at least 1s");
    }
    s.expires_at = registry::now_ms() + d;
  }
  std::optional<Session> prev;
  if (auto e = store.get_session(id, prev)) return store_failure(e, settings_.counters);
  count_write();
  if (auto e = store.put_session(s)) return store_failure(e, settings_.counters);
  return json_response(prev ? 200 : 201, session_json(s));
}

Response Api::routes(const Request& req, const std::vector<std::string>& parts) {
  if (req.method != "GET") return method_not_allowed("GET");
  if (parts.size() != 3) return error(404, "not_found", "use /v1/routes/{session}");
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
    case registry::RouteState::kLeaseExpired:
      o["reason"] =
          "container missed its heartbeats (lease expired): requests get the 503 "
          "unavailable page until it heartbeats again";
      break;
  }
  return json_response(200, o);
}

}  // namespace sg::admin
