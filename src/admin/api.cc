#include "admin/api.h"

#include "admin/api_support.h"
#include "sg_embed_kOpenApiJson.h"

namespace sg::admin {

Api::Api(registry::Registry& registry, ApiSettings settings)
    : registry_(registry), settings_(std::move(settings)) {
  reconfigure(settings_.policy, settings_.links, settings_.token_param);
}

Response Api::offload(std::function<Response()> work) {
  if (!settings_.store_call) return work();
  Response r;
  r.later = [call = settings_.store_call,
             work = std::move(work)](std::function<void(Response)> done) mutable {
    call(std::move(work), std::move(done));
  };
  return r;
}

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
  const bool probe = req.path == "/healthz" || req.path == "/readyz";
  if (probe && req.method != "GET" && req.method != "HEAD") {
    return method_not_allowed("GET, HEAD");
  }
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
  if (req.path == "/v1/openapi.json") {  // documentation: no token, as /healthz
    if (req.method != "GET") return method_not_allowed("GET");
    Response r;
    r.body = kOpenApiJson;
    return r;
  }
  std::string auth = req.header("authorization");
  const std::string_view prefix = "Bearer ";
  const auto refuse = [](std::string_view why) {
    Response r = error(401, "unauthorized", why);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sessiongate\"");
    return r;
  };
  const CookieAuth cookie =
      auth.empty() && settings_.cookie ? settings_.cookie(req) : CookieAuth::kNone;
  if (cookie == CookieAuth::kNoHeader) {
    return refuse("a dashboard login must send X-Sessiongate-Dashboard: 1 with every call");
  }
  const bool bearer = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0;
  if (cookie != CookieAuth::kValid && !bearer) {
    return refuse("send Authorization: Bearer <admin token or scoped token>");
  }
  const std::string_view presented =
      bearer ? std::string_view(auth).substr(prefix.size()) : std::string_view();
  if (cookie != CookieAuth::kValid && !token_matches(presented, settings_.token)) {
    if (!settings_.scoped || !access::ScopedTokens::looks_scoped(presented)) {
      return refuse("send Authorization: Bearer <admin token or scoped token>");
    }
    access::Scope scope;
    const access::Verdict v = settings_.scoped->verify(presented, registry::now_ms() / 1000, scope);
    if (v != access::Verdict::kValid) {
      return refuse("scoped token refused: " + std::string(access::to_string(v)) +
                    (v == access::Verdict::kExpired ? " (mint a new one)" : ""));
    }
    if (settings_.counters) settings_.counters->scoped_calls.add();
    return scoped(req, split_path(req.path), std::move(scope));
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
    if (parts[1] == "containers" || parts[1] == "sessions") {
      // The request and this reload's settings travel with the call; `this` outlives it (the
      // pool is drained before the API is destroyed).
      return offload([this, req, parts = std::move(parts), live = live_] {
        return parts[1] == "containers" ? containers(req, parts, *live)
                                        : sessions(req, parts, *live);
      });
    }
    if (parts[1] == "routes") return routes(req, parts);
    if (parts[1] == "config") return config(req, parts);
  }
  return error(404, "not_found", "no such endpoint: " + req.path);
}

// POST /v1/config/reload: re-reads the configuration file; answered once the reload is done.
Response Api::config(const Request& req, const std::vector<std::string>& parts) {
  if (parts.size() != 3 || parts[2] != "reload") {
    return error(404, "not_found", "no such endpoint: " + req.path);
  }
  if (req.method != "POST") return error(405, "method_not_allowed", "allowed: POST");
  if (!req.body.empty()) {
    return error(400, "unexpected_body",
                 "POST /v1/config/reload takes no body: it re-reads "
                 "the file the router was started with");
  }
  if (!settings_.reload) return error(503, "unavailable", "reload is not available");
  Response r;
  r.later = [start = settings_.reload](std::function<void(Response)> done) {
    start([done = std::move(done)](const ReloadOutcome& o) {
      if (o.status != 200) {
        // One problem per line, as `config check` prints them; also as a list.
        json::array lines;
        std::string joined;
        for (size_t at = 0; at < o.message.size();) {
          size_t nl = o.message.find('\n', at);
          if (nl == std::string::npos) nl = o.message.size();
          if (nl > at) {
            std::string line = o.message.substr(at, nl - at);
            for (auto& c : line) {  // the file's bytes may be quoted: keep the JSON valid
              if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
                c = '?';
              }
            }
            joined += (joined.empty() ? "" : "; ") + line;
            lines.emplace_back(std::move(line));
          }
          at = nl + 1;
        }
        done(json_response(
            o.status,
            json::object{{"error", o.code}, {"message", joined}, {"errors", std::move(lines)}}));
        return;
      }
      done(json_response(200, json::object{{"status", o.code},
                                           {"generation", o.generation},
                                           {"took_ms", o.took_ms},
                                           {"message", o.message}}));
    });
  };
  return r;
}

}  // namespace sg::admin
