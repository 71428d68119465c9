// The admin REST API (/v1/...): containers, sessions, routes, health. JSON in and out,
// bearer-token auth, field-level validation errors. Runs on the control-plane thread; what
// touches the store runs through `store_call` (the StorePool), so health, readiness, metrics
// and routes answer at once whatever the store is doing.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "access/link_token.h"
#include "access/scoped_token.h"
#include "admin/http_server.h"
#include "net/address_policy.h"
#include "observe/metrics.h"
#include "registry/registry.h"

namespace sg::admin {

// What /readyz reports. A router that lost its store but holds routes stays ready (it serves
// what it knows) and says its routes may be stale; one that never loaded routes is not ready.
struct Readiness {
  bool ready = true;
  bool store_ok = true;
  bool routes_current = true;
  std::string detail;
};

// How a configuration reload ended, for POST /v1/config/reload.
struct ReloadOutcome {
  int status = 200;     // 200 applied, 409 refused (needs a restart, or one already running),
                        // 422 the file is invalid
  std::string code;     // "reloaded", "restart_required", "reload_in_progress", "invalid_config"
  std::string message;  // every problem, one per line
  uint64_t generation = 0;
  int64_t took_ms = 0;
};

// What a reload may change, read by store calls in flight: one immutable copy per reload.
struct ApiLive {
  net::AddressPolicy policy;                        // where containers may live
  std::shared_ptr<const access::LinkSigner> links;  // null or unable to sign: no link issuing
  std::string token_param = "sg_token";
};

struct ApiSettings {
  std::string token;
  net::AddressPolicy policy;  // where containers may live
  registry::Millis default_lease = 30000;
  std::function<std::string()> metrics;  // Prometheus text for GET /metrics
  std::function<Readiness()> ready;
  observe::ControlMetrics* counters = nullptr;
  std::shared_ptr<const access::LinkSigner> links;  // null or unable to sign: no link issuing
  std::string token_param = "sg_token";
  // Verifies (and signs) scoped per-container tokens; null: only the admin token is accepted.
  std::shared_ptr<const access::ScopedTokens> scoped;
  // Runs `work` (which calls the store) off the control-plane loop and hands its answer to
  // `done` on that loop; unset: runs it inline.
  std::function<void(std::function<Response()> work, std::function<void(Response)> done)>
      store_call;
  // How a request without a bearer token stands with the dashboard's login cookie; unset:
  // only bearer tokens are accepted.
  std::function<CookieAuth(const Request&)> cookie;
  // Starts a reload; the completion gets its outcome on the control-plane thread.
  std::function<void(std::function<void(const ReloadOutcome&)>)> reload;
};

class Api {
 public:
  Api(registry::Registry& registry, ApiSettings settings);
  Response handle(const Request& req);
  // After a reload: where containers may live and the preview-link signer. Calls in flight
  // finish with what they started with.
  void reconfigure(net::AddressPolicy policy, std::shared_ptr<const access::LinkSigner> links,
                   std::string token_param) {
    live_ = std::make_shared<const ApiLive>(
        ApiLive{std::move(policy), std::move(links), std::move(token_param)});
  }

  // Constant-time comparison of the presented bearer token.
  static bool token_matches(std::string_view presented, std::string_view expected);

 private:
  // Off the loop (store calls): answered through store_call.
  Response offload(std::function<Response()> work);
  Response containers(const Request& req, const std::vector<std::string>& parts,
                      const ApiLive& live);
  Response sessions(const Request& req, const std::vector<std::string>& parts, const ApiLive& live);
  Response routes(const Request& req, const std::vector<std::string>& parts);
  Response config(const Request& req, const std::vector<std::string>& parts);
  // A call made with a scoped token: what that token may do, or 403.
  Response scoped(const Request& req, std::vector<std::string> parts, access::Scope scope);
  Response scoped_session(const Request& req, const std::string& id, const access::Scope& scope);
  // POST /v1/containers/{id}/tokens: mints a scoped token (admin token only).
  Response mint_token(const Request& req, const std::string& id);
  Response put_container(const Request& req, const std::string& id, const ApiLive& live);
  Response list_sessions(const Request& req);
  Response session_links(const Request& req, const std::string& id, bool revoke,
                         const ApiLive& live);
  Response put_session(const Request& req, const std::string& id);

  void count_write() {
    if (settings_.counters) settings_.counters->store_ops.add();
  }

  registry::Registry& registry_;
  ApiSettings settings_;
  std::shared_ptr<const ApiLive> live_;
};

}  // namespace sg::admin
