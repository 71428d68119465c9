// listeners: the addresses the data plane accepts on.
#include "app/config_reader.h"

#include "net/address.h"

namespace sg::app {

void read_listeners(Reader& r, const YAML::Node& n, Config& cfg) {
  if (!n.IsSequence() || n.size() == 0) {
    r.error(n, "listeners must be a non-empty list");
    return;
  }
  for (const auto& item : n) {
    if (!r.mapping(item, "listener", {"address"})) continue;
    std::string addr;
    if (!item["address"]) {
      r.error(item, "listener needs an address (e.g. 127.0.0.1:8080)");
      continue;
    }
    if (!r.scalar(item["address"], "address", addr)) continue;
    ListenerConfig l;
    if (!net::parse_endpoint(addr, l.endpoint)) {
      r.error(item["address"], "listener address '" + addr +
                                   "' is not IP:PORT (an IP literal; names are not resolved)");
      continue;
    }
    l.text = addr;
    cfg.listeners.push_back(l);
  }
}

}  // namespace sg::app
