// How a router follows its shared store: the change feed's events, applied in order on the
// control-plane thread, and store errors of periodic work logged when they change.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include <map>
#include "observe/metrics.h"

#include "registry/change_feed.h"
#include "registry/registry.h"

namespace sg::app {

// Loading or resynchronising a large registry allocates transient copies of every record;
// glibc keeps freed memory resident unless asked, so hand it back after those steps.
void release_free_memory();

// The change feed's view, kept on the control-plane thread.
struct FeedState {
  bool up = false;
  registry::Millis down_since = 0;
  std::string detail;
};

// Store errors from periodic work (activity, sweeps) are logged when they start, change or
// end, not once per tick while the store is down; each kind of work on its own (a sweep that
// works must not announce that activity writes, still failing, succeed again).
class StoreErrorLog {
 public:
  explicit StoreErrorLog(std::function<void(const std::string&)> log) : log_(std::move(log)) {}
  // Only for work that was attempted: a round with nothing to write says nothing.
  void report(const std::string& what, const registry::StoreError& e);

 private:
  std::function<void(const std::string&)> log_;
  std::map<std::string, std::string> last_;  // what -> its last error ("" = fine)
};

// Feed events happen on the feed's thread; everything they touch lives on the control plane,
// so each is posted there and applied in order.
registry::ChangeFeed::Handlers follow_feed(boost::asio::io_context& io, registry::Registry& reg,
                                           observe::ControlMetrics& control, FeedState& state,
                                           bool& synced,
                                           std::function<void(const std::string&)> log);

}  // namespace sg::app
