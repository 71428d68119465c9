#include "proxy/route_subscribers.h"

namespace sg::proxy {

void RouteSubscribers::remove(const std::string& session_id, TunnelHandle* t) {
  auto it = map_.find(session_id);
  if (it == map_.end()) return;
  auto& list = it->second;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == t) {
      list.erase(list.begin() + static_cast<long>(i));
      break;
    }
  }
  if (list.empty()) map_.erase(it);
}

size_t RouteSubscribers::close_all(const std::string& session_id) {
  auto it = map_.find(session_id);
  if (it == map_.end()) return 0;
  // A copy: closing may remove entries from the list.
  const std::vector<TunnelHandle*> targets(it->second);
  for (TunnelHandle* t : targets) t->close();
  return targets.size();
}

}  // namespace sg::proxy
