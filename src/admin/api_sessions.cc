// /v1/sessions: create or update (PUT), show, delete, list by label, and preview links.
#include <charconv>

#include "admin/api_support.h"
#include "net/address.h"
#include "registry/route.h"

namespace sg::admin {

using registry::Container;
using registry::Millis;
using registry::Session;

namespace {
// The longest idle_ttl or expires_in a session may have: ten years, far beyond any preview,
// and far from where milliseconds since the epoch overflow.
constexpr Millis kMaxLifetime = 3650LL * 86400000;
}  // namespace

Response Api::sessions(const Request& req, const std::vector<std::string>& parts,
                       const ApiLive& live) {
  auto& store = registry_.store();
  if (parts.size() == 2) {
    if (req.method != "GET") return method_not_allowed("GET");
    return list_sessions(req);
  }
  const bool action = parts.size() == 4 && (parts[3] == "links" || parts[3] == "revoke-links");
  if (parts.size() != 3 && !action) return error(404, "not_found", "no such endpoint: " + req.path);
  const std::string_view allow = action ? "POST" : "GET, PUT, DELETE";
  if (!method_in(req.method, allow)) return method_not_allowed(allow);
  const std::string& id = parts[2];
  if (!registry::valid_id(id)) {
    return validation("id", "session ids are 1-128 characters of A-Z a-z 0-9 _ -");
  }
  if (action) return session_links(req, id, parts[3] == "revoke-links", live);
  if (req.method == "GET" || req.method == "DELETE") {
    return get_or_delete<Session>(
        req, "session", id,
        [&](const std::string& k, std::optional<Session>& out) {
          return store.get_session(k, out);
        },
        [&](const std::string& k, bool& found) { return store.delete_session(k, found); },
        session_json, settings_.counters);
  }
  return put_session(req, id);
}

Response Api::list_sessions(const Request& req) {
  auto& store = registry_.store();
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

// POST .../links issues a preview link; POST .../revoke-links revokes every link issued so far.
Response Api::session_links(const Request& req, const std::string& id, bool revoke,
                            const ApiLive& live) {
  auto& store = registry_.store();
  std::optional<Session> s;
  if (auto e = store.get_session(id, s)) return store_failure(e, settings_.counters);
  if (!s) return error(404, "not_found", "no session '" + id + "'");
  if (revoke) {
    // A new epoch invalidates every link and cookie issued before, on every router.
    ++s->link_epoch;
    count_write();
    if (auto e = store.put_session(*s)) return store_failure(e, settings_.counters);
    return json_response(200, json::object{{"session", id}, {"link_epoch", s->link_epoch}});
  }
  if (!live.links || !live.links->can_sign()) {
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
  std::string token = live.links->issue(id, expires_s, s->link_epoch);
  return json_response(201, json::object{{"session", id},
                                         {"token", token},
                                         {"expires_at", expires_s * 1000},
                                         {"query", live.token_param + "=" + token}});
}

Response Api::put_session(const Request& req, const std::string& id) {
  auto& store = registry_.store();
  json::object body;
  if (auto bad = parse_object(req, body,
                              {"container_id", "labels", "idle_ttl", "expires_at", "expires_in",
                               "access", "sleep_after"})) {
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
    if (!read_duration(*t, s.idle_ttl) || (s.idle_ttl != 0 && s.idle_ttl < 1000) ||
        s.idle_ttl > kMaxLifetime) {
      return validation("idle_ttl", "idle_ttl must be 0 (never) or a duration from 1s to 3650d");
    }
  }
  if (const json::value* t = body.if_contains("sleep_after")) {
    if (t->is_string() && t->as_string() == "never") {
      s.sleep_after = -1;
    } else if (t->is_string() && t->as_string() == "default") {
      s.sleep_after = 0;
    } else if (!read_duration(*t, s.sleep_after) || (s.sleep_after != 0 && s.sleep_after < 1000) ||
               s.sleep_after > kMaxLifetime) {
      return validation("sleep_after",
                        "sleep_after must be \"never\", \"default\" (or 0: the router's "
                        "sessions.sleep_after) or a duration from 1s to 3650d");
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
    if (!read_duration(*e, d) || d < 1000 || d > kMaxLifetime) {
      return validation("expires_in", "expires_in must be a duration from 1s to 3650d");
    }
    s.expires_at = registry::now_ms() + d;
  }
  std::optional<Session> prev;
  if (auto e = store.get_session(id, prev)) return store_failure(e, settings_.counters);
  count_write();
  if (auto e = store.put_session(s)) return store_failure(e, settings_.counters);
  return json_response(prev ? 200 : 201, session_json(s));
}

}  // namespace sg::admin
