#include "app/runtime_builder.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <thread>

namespace sg::app {

namespace asio = boost::asio;

namespace {

// Raises the soft file-descriptor limit to the hard one, and keeps max_connections within
// it: each connection may hold two descriptors (client and upstream), and a reserve stays
// for listeners, the store, the admin API, logs and the loops' own descriptors. Past the
// limit accept() fails, where the graceful 503 should have come first.
size_t fit_to_file_descriptors(size_t wanted, size_t workers,
                               const std::function<void(const std::string&)>& log) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const size_t reserve = 64 + 16 * workers;
  const size_t fds = lim.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<size_t>(lim.rlim_cur);
  const size_t fit = fds > reserve ? (fds - reserve) / (2 * workers) : 1;
  if (wanted <= fit) return wanted;
  const size_t lowered = std::max<size_t>(fit, 1);
  log("limits: max_connections " + std::to_string(wanted) + " per worker x " +
      std::to_string(workers) + " workers needs about " +
      std::to_string(wanted * 2 * workers + reserve) + " file descriptors, the limit is " +
      std::to_string(fds) + ": lowered to " + std::to_string(lowered) +
      " per worker (raise the limit, e.g. LimitNOFILE= or ulimit -n, to keep it)");
  return lowered;
}

}  // namespace

int worker_count(const Config& cfg) {
  return cfg.workers > 0 ? cfg.workers
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::shared_ptr<proxy::Runtime> build_runtime(const Config& cfg, const RuntimeParts& parts,
                                              net::AddressPolicy& policy) {
  auto rt = std::make_shared<proxy::Runtime>();
  rt->settings = proxy::Settings{cfg.limits, cfg.timeouts, cfg.http2};
  rt->settings.http2.head = {cfg.limits.header_bytes, cfg.limits.header_fields};
  rt->rules = routing::RuleTable(cfg.rules);
  rt->sessions = cfg.sessions;
  rt->pages = cfg.pages;
  std::vector<asio::ip::tcp::endpoint> own;
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    const ListenerConfig& l = cfg.listeners[i];
    auto pl = std::make_shared<proxy::Listener>(proxy::Listener{
        l.endpoint, l.text, l.proxy_protocol, l.redirect_to_https, parts.tls[i],
        l.tls && !l.tls->hsts.empty() ? "Strict-Transport-Security: " + l.tls->hsts + "\r\n"
                                      : std::string(),
        l.http2, l.h2c});
    if (i < parts.states.size() && parts.states[i]) pl->state = parts.states[i];
    rt->listeners.push_back(std::move(pl));
    own.push_back(l.endpoint);
  }
  rt->access_log = cfg.access_log.enabled ? parts.access_log : nullptr;
  rt->access_fields = cfg.access_log.fields;
  if (cfg.admin.enabled) own.push_back(cfg.admin.endpoint);
  policy = net::AddressPolicy(cfg.security.upstream_allow_cidrs, own);
  rt->upstream_policy = policy;
  rt->links = access::LinkSigner(cfg.security.link_keys);
  rt->default_link = cfg.security.default_link;
  rt->token_param = cfg.security.token_param;
  rt->trusted_proxies = cfg.security.trusted_proxies;
  parts.client_limits->set(cfg.limits.per_client_connections,
                           static_cast<double>(cfg.limits.per_client_rate),
                           static_cast<double>(cfg.limits.per_client_burst));
  if (parts.client_limits->enabled()) rt->client_limits = parts.client_limits;
  if (cfg.wake.enabled && parts.wake_gate) {
    parts.wake_gate->set_limits({cfg.wake.hold_timeout, cfg.wake.navigation_hold,
                                 cfg.wake.max_held_per_session, cfg.wake.max_held,
                                 cfg.wake.max_held_bytes});
    rt->wake = parts.wake_gate;
  }
  rt->lookup = parts.lookup;
  rt->settings.limits.max_connections =
      fit_to_file_descriptors(cfg.limits.max_connections, parts.workers, parts.log);
  return rt;
}

}  // namespace sg::app
