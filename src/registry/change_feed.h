// How a router learns of changes other routers made to a shared store. A feed delivers them
// in version order, each exactly once, and a whole snapshot whenever it may have missed any
// (reconnect, a gap, a store that went back in time); it says when it is up or down. Handlers
// run on the feed's own thread: the control plane posts what they carry to its own loop.
// Stores written by one router only (SQLite) have no feed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "registry/session_lookup.h"
#include "registry/store.h"

namespace sg::registry {

class ChangeFeed {
 public:
  struct Handlers {
    std::function<void(Change)> change;      // in version order, each exactly once
    std::function<void(Snapshot)> snapshot;  // replaces everything older than its version
    std::function<void(bool up, std::string detail)> state;  // on every up/down transition
    // The end of a look_up(): after the change for a found session.
    std::function<void(const std::string& id, SessionLookup::Result)> looked_up;
  };

  virtual ~ChangeFeed() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // Reads one session (and its container) out of turn, on the feed's thread; then
  // looked_up(). False when this feed cannot, or is not connected now. Never blocks.
  virtual bool look_up(const std::string& id) {
    (void)id;
    return false;
  }
  // Numbers only this kind of feed has, read when /metrics is scraped from any thread.
  virtual std::vector<Stat> stats() const { return {}; }
};

}  // namespace sg::registry
