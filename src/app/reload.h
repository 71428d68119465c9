// What a configuration reload may change. Everything the data plane reads per connection or
// per request is swapped in whole (see docs/decisions/0019-config-reload.md); what was built
// once at start (the workers, the store, the admin listener, the upstream pools) is not, and
// a reload that changes it is refused with a message naming the key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "net/tls_server.h"

namespace sg::app {

// What a reload prepares off the control-plane thread: the file read and validated, the
// certificates of new or changed TLS listeners loaded, sockets opened for new addresses.
// Nothing running is touched; a failed plan is dropped and changes nothing.
struct ReloadPlan {
  ReloadPlan() = default;
  ReloadPlan(const ReloadPlan&) = delete;
  ReloadPlan& operator=(const ReloadPlan&) = delete;
  ~ReloadPlan();  // closes sockets not handed to a worker

  enum class Result { kOk, kInvalid, kRestartNeeded };
  Result result = Result::kInvalid;
  std::string error;  // one problem per line
  Config config;
  // Per new listener: its TLS server when new or changed; null for plain listeners and for
  // TLS listeners whose settings did not change (`kept_tls` names the running one to keep).
  std::vector<std::shared_ptr<net::TlsServer>> tls;
  std::vector<int> kept_tls;  // index into the running listeners, or -1
  // [worker][new listener]: a listening socket for an address not listened on before, or -1.
  std::vector<std::vector<int>> fds;
};

// Reads `path` and decides whether it can replace `running`, preparing what it needs.
// Safe on any thread: it reads `running` and the file system only.
std::unique_ptr<ReloadPlan> prepare_reload(const std::string& path, const Config& running,
                                           size_t workers);

// One message per key that differs between `running` and `next` and needs a restart, in
// file order ("workers: 2 -> 4 needs a restart"). Empty: `next` can be reloaded.
std::vector<std::string> restart_needed(const Config& running, const Config& next);

}  // namespace sg::app
