// What holds a session's route beyond one request — its open tunnels — so that a route change
// that moves or deletes the session closes exactly those (and nothing of other sessions).
// Requests held while a container wakes will subscribe here too. One per worker, used only on
// its thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/ws_frames.h"

namespace sg::proxy {

// What a tunnel's upgrade request was routed by, to ask a reloaded rule set again.
struct RouteKey {
  std::string host, path, cookie, referer;
};

struct Runtime;

// What a tunnel starts with besides its two streams.
struct TunnelInfo {
  RouteKey key;
  bool websocket = false;  // frames can be followed (and a close frame sent) both ways
  // The frames that went through before the tunnel took over (the 101's trailing bytes, the
  // client's early bytes), so both trackers start where the streams are.
  http::WsFrameTracker to_client, to_upstream;
  // The configuration its upgrade request ran under (its rule is logged when it ends).
  std::shared_ptr<const Runtime> runtime;
};

// An open tunnel (or other subscriber), closable when its session is deleted or re-pointed.
struct TunnelHandle {
  std::function<void()> close;
  // A reload's rules no longer send `key` to this session: a WebSocket gets a 1001 ("going
  // away") close frame where the stream allows one, then closes. Null: close() does.
  std::function<void()> go_away;
  RouteKey key;
  void leave() {
    if (go_away) {
      go_away();
    } else {
      close();
    }
  }
};

class RouteSubscribers {
 public:
  void add(const std::string& session_id, TunnelHandle* t) { map_[session_id].push_back(t); }
  void remove(const std::string& session_id, TunnelHandle* t);
  // Tells every subscriber of the session to close (each removes itself when it is done);
  // returns how many were told.
  size_t close_all(const std::string& session_id);
  // Calls f(session_id, handle) for every subscriber; f may close it (a snapshot is walked).
  template <typename F>
  void for_each_handle(F f) const {
    std::vector<std::pair<std::string, TunnelHandle*>> all;
    for (const auto& [id, list] : map_) {
      for (TunnelHandle* t : list) all.emplace_back(id, t);
    }
    for (auto& [id, t] : all) f(id, *t);
  }
  // Calls f(session_id) for every session with a subscriber (not "": tunnels of no session).
  template <typename F>
  void for_each_session(F f) const {
    for (const auto& [id, list] : map_) {
      if (!list.empty() && !id.empty()) f(id);
    }
  }

 private:
  std::unordered_map<std::string, std::vector<TunnelHandle*>> map_;
};

}  // namespace sg::proxy
