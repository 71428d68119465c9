// Calls made with a scoped token (access/scoped_token.h) and the minting of such tokens. A
// scoped token reaches exactly: its container (show, register, heartbeat) and, when minted
// with `sessions`, the sessions that point at its container (show, create, update — never
// re-pointing another container's session). Everything else is 403, whatever it would be
// with the admin token.
#include "admin/api_support.h"

namespace sg::admin {

namespace {

constexpr int64_t kDefaultTokenTtl = 86'400'000;     // a day
constexpr int64_t kMaxTokenTtl = 30LL * 86'400'000;  // a month: rotate keys to revoke sooner

Response forbidden(observe::ControlMetrics* counters, const access::Scope& scope,
                   const std::string& why) {
  if (counters) counters->scoped_forbidden.add();
  return error(403, "forbidden_scope",
               "this token is for container '" + scope.container + "': " + why);
}

}  // namespace

Response Api::scoped(const Request& req, std::vector<std::string> parts, access::Scope scope) {
  const auto forbid = [&](const std::string& why) {
    return forbidden(settings_.counters, scope, why);
  };
  if (parts.size() < 3 || parts[0] != "v1") {
    return forbid("it may not call " + req.method + " " + req.path);
  }
  if (parts[1] == "containers") {
    if (parts[2] != scope.container) return forbid("it may not touch another container");
    const bool own = (parts.size() == 3 && (req.method == "GET" || req.method == "PUT")) ||
                     (parts.size() == 4 && parts[3] == "heartbeat");
    if (!own)
      return forbid("it may show, register and heartbeat it, not " + req.method + " " + req.path);
    return offload([this, req, parts = std::move(parts), live = live_] {
      return containers(req, parts, *live);
    });
  }
  if (parts[1] == "sessions" && parts.size() == 3) {
    if (!scope.sessions) return forbid("it was minted without sessions");
    if (req.method != "GET" && req.method != "PUT") {
      return forbid("it may show, create and update its sessions, not " + req.method + " them");
    }
    return offload([this, req, id = parts[2], scope = std::move(scope)] {
      return scoped_session(req, id, scope);
    });
  }
  return forbid("it may not call " + req.method + " " + req.path);
}

Response Api::scoped_session(const Request& req, const std::string& id,
                             const access::Scope& scope) {
  const auto forbid = [&](const std::string& why) {
    return forbidden(settings_.counters, scope, why);
  };
  if (!registry::valid_id(id)) {
    return validation("id", "session ids are 1-128 characters of A-Z a-z 0-9 _ -");
  }
  if (req.method == "PUT") {
    // The body names the container before anything is read from the store.
    json::object body;
    if (auto bad = parse_object(req, body,
                                {"container_id", "labels", "idle_ttl", "sleep_after", "expires_at",
                                 "expires_in", "access"})) {
      return *bad;
    }
    const json::value* c = body.if_contains("container_id");
    if (!c || !c->is_string() || c->as_string() != scope.container) {
      return forbid("its sessions must have container_id '" + scope.container + "'");
    }
  }
  std::optional<registry::Session> s;
  if (auto e = registry_.store().get_session(id, s)) return store_failure(e, settings_.counters);
  if (s && s->container_id != scope.container) {
    return forbid("session '" + id + "' points at another container");
  }
  if (req.method == "GET") {
    if (!s) return error(404, "not_found", "no session '" + id + "'");
    return json_response(200, session_json(*s));
  }
  return put_session(req, id);
}

Response Api::mint_token(const Request& req, const std::string& id) {
  if (req.method != "POST") return method_not_allowed("POST");
  if (!settings_.scoped || !settings_.scoped->can_sign()) {
    return error(409, "no_signing_key", "configure admin.token_keys to mint scoped tokens");
  }
  json::object body;
  if (!req.body.empty()) {
    if (auto bad = parse_object(req, body, {"ttl", "sessions"})) return *bad;
  }
  registry::Millis ttl = kDefaultTokenTtl;
  if (const json::value* t = body.if_contains("ttl")) {
    if (!read_duration(*t, ttl) || ttl < 60'000 || ttl > kMaxTokenTtl) {
      return validation("ttl", "ttl must be a duration from 1m to 30d (default 1d)");
    }
  }
  bool sessions = false;
  if (const json::value* s = body.if_contains("sessions")) {
    if (!s->is_bool()) return validation("sessions", "sessions must be true or false");
    sessions = s->as_bool();
  }
  const int64_t expires_s = (registry::now_ms() + ttl) / 1000;
  if (settings_.counters) settings_.counters->tokens_minted.add();
  return json_response(201,
                       json::object{{"token", settings_.scoped->issue(id, expires_s, sessions)},
                                    {"container_id", id},
                                    {"sessions", sessions},
                                    {"expires_at", expires_s * 1000}});
}

}  // namespace sg::admin
