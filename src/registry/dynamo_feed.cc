#include "registry/dynamo_feed.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <unordered_set>

#include "registry/dynamo_items.h"

namespace sg::registry {

namespace {

constexpr Millis kInUseWindowMs = 60'000;
constexpr int64_t kBackoffMinMs = 100;
constexpr int64_t kBackoffMaxMs = 5000;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DynamoFeed::DynamoFeed(DynamoStore& store, Handlers handlers)
    : store_(store), handlers_(std::move(handlers)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

DynamoFeed::~DynamoFeed() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void DynamoFeed::start() {
  thread_ = std::thread([this] { run(); });
}

void DynamoFeed::stop() {
  stopping_ = true;
  accepting_ = false;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

bool DynamoFeed::look_up(const std::string& id) {
  if (!accepting_ || stopping_) return false;
  {
    std::lock_guard lock(lookup_mu_);
    lookups_.push_back(id);
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  return true;
}

bool DynamoFeed::sleep_ms(int64_t ms) {
  const int64_t until = steady_ms() + ms;
  for (;;) {
    if (stopping_) return false;
    const int64_t left = until - steady_ms();
    if (left <= 0) return true;
    pollfd p{wake_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if (stopping_) return false;
    uint64_t n = 0;
    [[maybe_unused]] ssize_t r = ::read(wake_fd_, &n, sizeof n);
    serve_lookups();
  }
}

void DynamoFeed::serve_lookups() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(lookup_mu_);
    ids.swap(lookups_);
  }
  constexpr size_t kBatch = 100;  // BatchGetItem's limit
  for (size_t at = 0; at < ids.size(); at += kBatch) {
    const auto end = ids.begin() + static_cast<ptrdiff_t>(std::min(ids.size(), at + kBatch));
    look_up_batch({ids.begin() + static_cast<ptrdiff_t>(at), end});
  }
}

void DynamoFeed::look_up_batch(const std::vector<std::string>& ids) {
  if (!handlers_.looked_up) return;
  const uint64_t version = store_.stamp();
  std::vector<Session> sessions;
  std::vector<Container> containers;
  StoreError e = store_.read_sessions(ids, sessions);
  if (!e) {
    std::unordered_set<std::string> wanted;
    for (const auto& s : sessions) {
      if (!s.container_id.empty()) wanted.insert(s.container_id);
    }
    e = store_.read_containers({wanted.begin(), wanted.end()}, containers);
  }
  if (e) {
    for (const auto& id : ids) handlers_.looked_up(id, SessionLookup::Result::kFailed);
    return;
  }
  std::unordered_set<std::string> found;
  for (auto& s : sessions) {
    found.insert(s.id);
    s.version = version;
  }
  for (auto& x : containers) x.version = version;
  diff(containers, sessions, version);
  for (const auto& id : ids) {
    handlers_.looked_up(
        id, found.contains(id) ? SessionLookup::Result::kFound : SessionLookup::Result::kMissing);
  }
}

void DynamoFeed::run() {
  const DynamoConfig& c = store_.config();
  bool up = false;
  int64_t backoff = 0;
  int64_t next_scan = 0;
  std::string reason = "start";
  while (!stopping_) {
    StoreError e;
    if (!up) {
      e = snapshot(reason);
      if (!e) next_scan = steady_ms() + c.scan_interval.count();
    } else if (steady_ms() >= next_scan) {
      e = full_scan();
      next_scan = steady_ms() + c.scan_interval.count();
    } else {
      e = revalidate();
    }
    if (e) {
      if (up || reason == "start") handlers_.state(false, e.message);
      up = false;
      accepting_ = false;
      reason = "reconnect";
      backoff = backoff == 0 ? kBackoffMinMs : std::min(backoff * 2, kBackoffMaxMs);
      if (!sleep_ms(backoff)) return;
      continue;
    }
    if (!up) handlers_.state(true, "");
    up = true;
    accepting_ = true;
    backoff = 0;
    if (!sleep_ms(c.revalidate_interval.count())) return;
  }
}

StoreError DynamoFeed::snapshot(const std::string& reason) {
  const int64_t began = steady_ms();
  Snapshot snap;
  size_t skipped = 0;
  if (auto e = store_.scan(snap.containers, snap.sessions, snap.version, &skipped)) return e;
  counters_.scans.fetch_add(1, std::memory_order_relaxed);
  counters_.skipped_items.store(skipped, std::memory_order_relaxed);
  containers_.clear();
  sessions_.clear();
  for (const auto& x : snap.containers) containers_[x.id] = dynamo::fingerprint(x);
  for (const auto& s : snap.sessions) sessions_[s.id] = dynamo::fingerprint(s);
  snap.epoch = "dynamodb";
  snap.reason = reason;
  snap.took_ms = steady_ms() - began;
  counters_.last_scan_ms.store(snap.took_ms, std::memory_order_relaxed);
  handlers_.snapshot(std::move(snap));
  return {};
}

StoreError DynamoFeed::full_scan() {
  const int64_t began = steady_ms();
  std::vector<Container> containers;
  std::vector<Session> sessions;
  uint64_t version = 0;
  size_t skipped = 0;
  if (auto e = store_.scan(containers, sessions, version, &skipped)) return e;
  counters_.scans.fetch_add(1, std::memory_order_relaxed);
  counters_.skipped_items.store(skipped, std::memory_order_relaxed);
  counters_.last_scan_ms.store(steady_ms() - began, std::memory_order_relaxed);
  std::unordered_set<std::string> seen_c, seen_s;
  for (const auto& x : containers) seen_c.insert(x.id);
  for (const auto& s : sessions) seen_s.insert(s.id);
  std::vector<std::string> gone_c, gone_s;
  for (const auto& [id, fp] : containers_) {
    if (!seen_c.contains(id)) gone_c.push_back(id);
  }
  for (const auto& [id, fp] : sessions_) {
    if (!seen_s.contains(id)) gone_s.push_back(id);
  }
  diff(containers, sessions, version);
  for (const auto& id : gone_s) gone_session(id, version);
  for (const auto& id : gone_c) gone_container(id, version);
  return {};
}

StoreError DynamoFeed::revalidate() {
  const std::vector<std::string> ids = store_.used_since(now_ms() - kInUseWindowMs);
  counters_.in_use.store(ids.size(), std::memory_order_relaxed);
  if (ids.empty()) return {};
  counters_.revalidations.fetch_add(1, std::memory_order_relaxed);
  std::vector<Session> sessions;
  uint64_t version = store_.stamp();  // before every read of this round
  if (auto e = store_.read_sessions(ids, sessions)) return e;
  std::unordered_set<std::string> found, wanted_c;
  for (const auto& s : sessions) {
    found.insert(s.id);
    if (!s.container_id.empty()) wanted_c.insert(s.container_id);
  }
  std::vector<Container> containers;
  const std::vector<std::string> cids(wanted_c.begin(), wanted_c.end());
  if (auto e = store_.read_containers(cids, containers)) return e;
  std::unordered_set<std::string> found_c;
  for (const auto& x : containers) found_c.insert(x.id);
  for (auto& s : sessions) s.version = version;
  for (auto& x : containers) x.version = version;
  diff(containers, sessions, version);
  for (const auto& id : ids) {
    if (!found.contains(id)) gone_session(id, version);
  }
  for (const auto& id : cids) {
    if (!found_c.contains(id)) gone_container(id, version);
  }
  return {};
}

std::vector<Stat> DynamoFeed::stats() const {
  auto v = [](const std::atomic<uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  const DynamoFeedCounters& c = counters_;
  return {
      {"dynamodb_revalidations_total", "Rounds of batched reads of the sessions in use.", true,
       v(c.revalidations)},
      {"dynamodb_scans_total", "Whole-table scans (snapshots at start and after outages included).",
       true, v(c.scans)},
      {"dynamodb_outside_changes_total",
       "Items found changed, added or deleted in the tables since this router last read them.",
       true, v(c.outside_changes)},
      {"dynamodb_skipped_items", "Items the last scan could not read as sessions or containers.",
       false, v(c.skipped_items)},
      {"dynamodb_in_use_sessions",
       "Sessions with activity in the last minute, read again every revalidate_interval.", false,
       v(c.in_use)},
      {"dynamodb_last_scan_seconds", "Time the last whole-table scan took.", false,
       v(c.last_scan_ms) / 1000.0},
  };
}

void DynamoFeed::diff(std::vector<Container>& containers, std::vector<Session>& sessions,
                      uint64_t version) {
  for (auto& x : containers) {
    std::string fp = dynamo::fingerprint(x);
    auto [it, fresh] = containers_.try_emplace(x.id, fp);
    if (!fresh && it->second == fp) continue;
    it->second = std::move(fp);
    counters_.outside_changes.fetch_add(1, std::memory_order_relaxed);
    x.version = version;
    handlers_.change({Change::Kind::kContainerPut, x.id, x, std::nullopt, version});
  }
  for (auto& s : sessions) {
    std::string fp = dynamo::fingerprint(s);
    auto [it, fresh] = sessions_.try_emplace(s.id, fp);
    if (!fresh && it->second == fp) continue;
    it->second = std::move(fp);
    counters_.outside_changes.fetch_add(1, std::memory_order_relaxed);
    s.version = version;
    handlers_.change({Change::Kind::kSessionPut, s.id, std::nullopt, s, version});
  }
}

void DynamoFeed::gone_container(const std::string& id, uint64_t version) {
  if (containers_.erase(id) == 0) return;  // never seen here: nothing to take back
  counters_.outside_changes.fetch_add(1, std::memory_order_relaxed);
  handlers_.change({Change::Kind::kContainerDeleted, id, std::nullopt, std::nullopt, version});
}

void DynamoFeed::gone_session(const std::string& id, uint64_t version) {
  if (sessions_.erase(id) == 0) return;
  counters_.outside_changes.fetch_add(1, std::memory_order_relaxed);
  handlers_.change({Change::Kind::kSessionDeleted, id, std::nullopt, std::nullopt, version});
}

}  // namespace sg::registry
