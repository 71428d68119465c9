// The admin REST API (/v1/...): containers, sessions, routes, health. JSON in and out,
// bearer-token auth, field-level validation errors. Runs on the control-plane thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "access/link_token.h"
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

struct ApiSettings {
  std::string token;
  net::AddressPolicy policy;  // where containers may live
  registry::Millis default_lease = 30000;
  std::function<std::string()> metrics;  // Prometheus text for GET /metrics
  std::function<Readiness()> ready;
  observe::ControlMetrics* counters = nullptr;
  const access::LinkSigner* links = nullptr;  // null or unable to sign: no link issuing
  std::string token_param = "sg_token";
};

class Api {
 public:
  Api(registry::Registry& registry, ApiSettings settings);
  Response handle(const Request& req);

  // Constant-time comparison of the presented bearer token.
  static bool token_matches(std::string_view presented, std::string_view expected);

 private:
  Response containers(const Request& req, const std::vector<std::string>& parts);
  Response sessions(const Request& req, const std::vector<std::string>& parts);
  Response routes(const Request& req, const std::vector<std::string>& parts);
  Response put_container(const Request& req, const std::string& id);
  Response list_sessions(const Request& req);
  Response session_links(const Request& req, const std::string& id, bool revoke);
  Response put_session(const Request& req, const std::string& id);

  void count_write() {
    if (settings_.counters) settings_.counters->store_ops.add();
  }

  registry::Registry& registry_;
  ApiSettings settings_;
};

}  // namespace sg::admin
