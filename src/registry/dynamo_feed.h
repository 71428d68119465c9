// How a router learns of changes in DynamoDB tables that anything may write (other routers,
// containers writing their own items, tools deleting mappings), on its own thread and without
// a database read per request: a whole-table snapshot at start and after every outage, then
// the routes in use (sessions with activity in the last minute, and their containers) read
// again every revalidate_interval in batches, and the whole tables scanned every
// scan_interval for items nobody has asked for yet; a session a request asks for that is not
// known yet is read at once (look_up), between those rounds. What differs from the last read
// reaches the registry as changes, stamped before the read (so a read never undoes a later write).
// A DynamoDB Streams consumer would be one more source of the same changes.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "registry/change_feed.h"
#include "registry/dynamo_store.h"

namespace sg::registry {

struct DynamoFeedCounters {
  std::atomic<uint64_t> revalidations{0};  // rounds of in-use reads
  std::atomic<uint64_t> scans{0};          // whole-table scans (snapshots included)
  std::atomic<uint64_t> outside_changes{0};
  std::atomic<uint64_t> skipped_items{0};  // items that cannot be records (last scan)
  std::atomic<uint64_t> in_use{0};         // sessions the last revalidation read
  std::atomic<uint64_t> last_scan_ms{0};   // how long the last whole-table scan took
};

class DynamoFeed final : public ChangeFeed {
 public:
  DynamoFeed(DynamoStore& store, Handlers handlers);
  ~DynamoFeed() override;
  DynamoFeed(const DynamoFeed&) = delete;
  DynamoFeed& operator=(const DynamoFeed&) = delete;

  void start() override;
  void stop() override;
  bool look_up(const std::string& id) override;
  const DynamoFeedCounters& counters() const { return counters_; }
  std::vector<Stat> stats() const override;

 private:
  void run();
  StoreError snapshot(const std::string& reason);
  StoreError full_scan();
  StoreError revalidate();
  // Emits a change for each record that differs from the last one read (or is new).
  void diff(std::vector<Container>& containers, std::vector<Session>& sessions, uint64_t version);
  void gone_container(const std::string& id, uint64_t version);
  void gone_session(const std::string& id, uint64_t version);
  // Waits `ms`, answering lookups meanwhile; false when stopping.
  bool sleep_ms(int64_t ms);
  void serve_lookups();
  void look_up_batch(const std::vector<std::string>& ids);

  DynamoStore& store_;
  Handlers handlers_;
  std::atomic<bool> stopping_{false};
  // Lookups are taken from the start (one queued during the first snapshot is read right
  // after it) until a read fails, and again once one succeeds.
  std::atomic<bool> accepting_{true};
  std::mutex lookup_mu_;
  std::vector<std::string> lookups_;
  int wake_fd_ = -1;
  std::thread thread_;
  std::unordered_map<std::string, std::string> containers_;  // id -> fingerprint
  std::unordered_map<std::string, std::string> sessions_;
  DynamoFeedCounters counters_;
};

}  // namespace sg::registry
