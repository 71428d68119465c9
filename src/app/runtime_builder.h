// What the data plane reads on every request, built from a validated configuration: at start
// and by every reload (see docs/decisions/0019-config-reload.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "net/address_policy.h"
#include "net/tls_server.h"
#include "observe/access_log.h"
#include "proxy/client_limits.h"
#include "proxy/worker.h"

namespace sg::app {

struct RuntimeParts {
  const std::vector<std::shared_ptr<net::TlsServer>>& tls;  // per listener; null for plain
  // Per listener (may be short or hold nulls): kept from the running listener of the same
  // address, so a reload that keeps an address keeps its connections' view of it.
  const std::vector<std::shared_ptr<proxy::ListenerState>>& states;
  observe::AccessLog* access_log;      // used when the configuration turns it on
  proxy::ClientLimits* client_limits;  // set to the configuration's limits
  size_t workers;
  std::function<void(const std::string&)> log;
  proxy::WakeGate* wake_gate;       // given the configuration's hold limits when wake is on
  registry::SessionLookup* lookup;  // null: the store has no lookups
};

// The runtime; `policy` is set to the upstream address policy it carries (the admin API
// checks container addresses with it).
std::shared_ptr<proxy::Runtime> build_runtime(const Config& cfg, const RuntimeParts& parts,
                                              net::AddressPolicy& policy);

// `workers`, or one per core.
int worker_count(const Config& cfg);

}  // namespace sg::app
