// What holds a session's route beyond one request — its open tunnels — so that a route change
// that moves or deletes the session closes exactly those (and nothing of other sessions).
// Requests held while a container wakes will subscribe here too. One per worker, used only on
// its thread.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sg::proxy {

// An open tunnel (or other subscriber), closable when its session is deleted or re-pointed.
struct TunnelHandle {
  std::function<void()> close;
};

class RouteSubscribers {
 public:
  void add(const std::string& session_id, TunnelHandle* t) { map_[session_id].push_back(t); }
  void remove(const std::string& session_id, TunnelHandle* t);
  // Tells every subscriber of the session to close (each removes itself when it is done);
  // returns how many were told.
  size_t close_all(const std::string& session_id);
  // Calls f(session_id) for every session with a subscriber.
  template <typename F>
  void for_each_session(F f) const {
    for (const auto& [id, list] : map_) {
      if (!list.empty()) f(id);
    }
  }

 private:
  std::unordered_map<std::string, std::vector<TunnelHandle*>> map_;
};

}  // namespace sg::proxy
