// Keeping a route table right when changes arrive from several writers: version order,
// deletions that must stay deleted, snapshots that repair whatever was missed, and the Redis
// change feed that detects every way of missing a change.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

#include "net/address.h"
#include "registry/redis_feed.h"
#include "registry/redis_store.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"
#include "support/redis_server.h"

namespace sg::registry {
namespace {

Session session(const std::string& id, const std::string& container, uint64_t version) {
  Session s;
  s.id = id;
  s.container_id = container;
  s.version = version;
  return s;
}

Change put(const Session& s) {
  return {Change::Kind::kSessionPut, s.id, std::nullopt, s, s.version};
}

Container container(const std::string& id, uint16_t port, uint64_t version) {
  Container c;
  c.id = id;
  c.address = {boost::asio::ip::make_address("10.0.0.1"), port};
  c.address_text = "10.0.0.1:" + std::to_string(port);
  c.status = ContainerStatus::kReady;
  c.version = version;
  return c;
}

Change put(const Container& c) {
  return {Change::Kind::kContainerPut, c.id, c, std::nullopt, c.version};
}

class RegistryVersions : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        std::filesystem::temp_directory_path() / ("sg-regv-" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path_);
    std::string err;
    store_ = std::make_unique<SqliteStore>(path_.string(), true, err);
    reg_ = std::make_unique<Registry>(
        *store_, [this](const std::string& id, RoutePtr r) { published_.emplace_back(id, r); });
    StoreError e;
    reg_->load(e);
    reg_->track_tombstones();
  }
  void TearDown() override {
    reg_.reset();
    store_.reset();
    std::filesystem::remove(path_);
  }
  std::filesystem::path path_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> reg_;
  std::vector<std::pair<std::string, RoutePtr>> published_;
};

TEST_F(RegistryVersions, AnOlderChangeNeverOverwritesANewerOne) {
  reg_->apply_feed(put(session("a", "new", 10)));
  reg_->apply_feed(put(session("a", "old", 7)));
  ASSERT_TRUE(reg_->route("a"));
  EXPECT_EQ(reg_->route("a")->container_id, "new");
  EXPECT_EQ(published_.size(), 1u);
}

TEST_F(RegistryVersions, ADeletionIsNotUndoneByALateOlderPut) {
  Session a = session("a", "c", 0);
  ASSERT_FALSE(store_->put_session(a));
  bool found = false;
  ASSERT_FALSE(store_->delete_session("a", found));  // this router's own write, applied at once
  // ... and only then the feed delivers an older put (another router's earlier write).
  reg_->apply_feed(put(session("a", "c", a.version)));
  EXPECT_EQ(reg_->route("a"), nullptr);
  reg_->apply_feed(put(session("a", "c2", a.version + 5)));  // a newer put does recreate it
  ASSERT_TRUE(reg_->route("a"));
  EXPECT_EQ(reg_->route("a")->container_id, "c2");
}

TEST_F(RegistryVersions, SnapshotRepairsAndPublishesOnlyDifferences) {
  for (int i = 0; i < 5; ++i) reg_->apply_feed(put(session("s" + std::to_string(i), "c", i + 1)));
  published_.clear();
  Snapshot snap;
  snap.version = 20;
  snap.sessions.push_back(session("s0", "c", 1));       // unchanged
  snap.sessions.push_back(session("s1", "moved", 15));  // changed while we were away
  snap.sessions.push_back(session("s3", "c", 4));       // unchanged
  snap.sessions.back().last_active_at = 123456;         // activity another router saved
  snap.sessions.push_back(session("new", "c", 18));     // created while we were away
  // s2 and s4 are gone from the store.
  auto r = reg_->apply_snapshot(snap);
  EXPECT_EQ(r.sessions_changed, 4u);
  EXPECT_EQ(published_.size(), 4u);
  EXPECT_EQ(reg_->route("s1")->container_id, "moved");
  EXPECT_EQ(reg_->route("s2"), nullptr);
  EXPECT_EQ(reg_->route("s4"), nullptr);
  ASSERT_TRUE(reg_->route("new"));
  EXPECT_EQ(reg_->route_count(), 4u);
  // A record newer than the snapshot (written here after the snapshot was read) survives.
  reg_->apply_feed(put(session("late", "c", 25)));
  Snapshot older;
  older.version = 22;
  auto r2 = reg_->apply_snapshot(older);
  EXPECT_TRUE(reg_->route("late"));
  EXPECT_EQ(r2.sessions_changed, 4u);  // the four from the first snapshot are gone
}

TEST_F(RegistryVersions, SnapshotRepairsContainersChangedOrDeletedWhileAway) {
  reg_->apply_feed(put(container("c1", 4321, 1)));
  reg_->apply_feed(put(container("c2", 4322, 2)));
  reg_->apply_feed(put(container("c3", 4323, 3)));
  reg_->apply_feed(put(session("on1", "c1", 4)));
  reg_->apply_feed(put(session("on2", "c2", 5)));
  reg_->apply_feed(put(session("on3", "c3", 6)));
  ASSERT_TRUE(reg_->route("on2")->has_container);
  published_.clear();
  Snapshot snap;
  snap.version = 30;
  snap.containers.push_back(container("c1", 4321, 1));   // unchanged
  snap.containers.push_back(container("c3", 5555, 21));  // re-registered elsewhere
  // c2 was deleted while we were away.
  snap.sessions.push_back(session("on1", "c1", 4));
  snap.sessions.push_back(session("on2", "c2", 5));
  snap.sessions.push_back(session("on3", "c3", 6));
  auto r = reg_->apply_snapshot(snap);
  EXPECT_EQ(r.containers_changed, 2u);
  EXPECT_EQ(r.sessions_changed, 0u);
  EXPECT_TRUE(reg_->route("on1")->has_container);
  EXPECT_EQ(reg_->route("on1")->address.port(), 4321);
  ASSERT_TRUE(reg_->route("on2"));
  EXPECT_FALSE(reg_->route("on2")->has_container);  // its container is gone: no address
  EXPECT_EQ(reg_->route("on3")->address.port(), 5555);
  // Only the routes whose container changed were published.
  ASSERT_EQ(published_.size(), 2u);
  std::set<std::string> ids{published_[0].first, published_[1].first};
  EXPECT_EQ(ids, (std::set<std::string>{"on2", "on3"}));
}

TEST_F(RegistryVersions, AResetSnapshotReplacesEverythingWhateverTheVersions) {
  // Our records come from a history that reached version 50; the store restarted empty and
  // its new history is at version 3.
  reg_->apply_feed(put(container("c1", 4321, 40)));
  reg_->apply_feed(put(session("ghost", "c1", 45)));
  reg_->apply_feed(put(session("s6", "c1", 50)));
  bool found = false;
  ASSERT_FALSE(store_->delete_session("gone-long-ago", found));  // a tombstone, too
  published_.clear();
  Snapshot snap;
  snap.version = 3;
  snap.epoch = "new";
  snap.reset = true;
  snap.containers.push_back(container("c2", 5555, 1));
  snap.sessions.push_back(session("s6", "c2", 2));
  snap.sessions.push_back(session("fresh", "c2", 3));
  auto r = reg_->apply_snapshot(snap);
  EXPECT_TRUE(r.reset);
  EXPECT_EQ(reg_->route("ghost"), nullptr);  // not in the store: gone, whatever its version
  ASSERT_TRUE(reg_->route("s6"));
  EXPECT_EQ(reg_->route("s6")->container_id, "c2");  // the store's, though its version is lower
  EXPECT_EQ(reg_->route("s6")->address.port(), 5555);
  ASSERT_TRUE(reg_->route("fresh"));
  // Later writes of the new history are newer than what we hold now.
  reg_->apply_feed(put(session("s6", "c1", 4)));
  EXPECT_EQ(reg_->route("s6")->container_id, "c1");
  // A store that restarted and holds nothing at all (version 0) empties the table too.
  Snapshot empty;
  empty.reset = true;
  reg_->apply_snapshot(empty);
  EXPECT_EQ(reg_->route_count(), 0u);
  EXPECT_EQ(reg_->route("s6"), nullptr);
}

// ---- the Redis change feed ------------------------------------------------------------------

class FeedProbe {
 public:
  RedisFeed::Handlers handlers() {
    RedisFeed::Handlers h;
    h.change = [this](Change c) {
      std::lock_guard l(mu_);
      changes.push_back(std::move(c));
      cv_.notify_all();
    };
    h.snapshot = [this](Snapshot s) {
      std::lock_guard l(mu_);
      snapshots.push_back(std::move(s));
      cv_.notify_all();
    };
    h.state = [this](bool up, std::string why) {
      std::lock_guard l(mu_);
      states.push_back(up);
      reasons.push_back(std::move(why));
      cv_.notify_all();
    };
    return h;
  }
  // Waits (bounded) until pred() holds under the lock.
  template <typename P>
  bool wait(P pred, int ms = 5000) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(ms), pred);
  }
  std::vector<Change> changes;
  std::vector<Snapshot> snapshots;
  std::vector<bool> states;
  std::vector<std::string> reasons;  // beside states: why the feed went down

  // True once the feed reported itself down with a reason containing `what`.
  bool went_down_because(const std::string& what, int ms = 5000) {
    return wait(
        [&] {
          for (size_t i = 0; i < states.size(); ++i) {
            if (!states[i] && reasons[i].find(what) != std::string::npos) return true;
          }
          return false;
        },
        ms);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

class RedisFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<RedisStore>(server_.endpoint(), "f:");
    feed_ = std::make_unique<RedisFeed>(server_.endpoint(), "f:", probe_.handlers(), 100);
    feed_->start();
    ASSERT_TRUE(probe_.wait([&] { return !probe_.snapshots.empty(); }));
  }
  void TearDown() override { feed_->stop(); }

  size_t snapshots() {
    return probe_.wait([] { return true; }) ? probe_.snapshots.size() : 0;
  }
  bool resynced_because(const std::string& why) {
    return probe_.wait([&] {
      for (const auto& s : probe_.snapshots) {
        if (s.reason.find(why) != std::string::npos) return true;
      }
      return false;
    });
  }

  testing::RedisServer server_;
  std::unique_ptr<RedisStore> store_;
  FeedProbe probe_;
  std::unique_ptr<RedisFeed> feed_;
};

TEST_F(RedisFeedTest, DeliversEveryWriteInVersionOrder) {
  EXPECT_EQ(probe_.snapshots[0].reason, "connect");
  for (int i = 0; i < 50; ++i) {
    Session s = session("s" + std::to_string(i), "c", 0);
    ASSERT_FALSE(store_->put_session(s));
  }
  bool found = false;
  ASSERT_FALSE(store_->delete_session("s7", found));
  ASSERT_TRUE(probe_.wait([&] { return probe_.changes.size() == 51; }));
  for (size_t i = 1; i < probe_.changes.size(); ++i) {
    EXPECT_EQ(probe_.changes[i].version, probe_.changes[i - 1].version + 1);
  }
  EXPECT_EQ(probe_.changes.back().kind, Change::Kind::kSessionDeleted);
  EXPECT_EQ(probe_.snapshots.size(), 1u);  // nothing missed, nothing re-read
}

TEST_F(RedisFeedTest, AVersionGapTriggersAResync) {
  Session s = session("a", "c", 0);
  ASSERT_FALSE(store_->put_session(s));
  // A message from the future: the ones in between were lost.
  server_.run({"PUBLISH", "f:changes",
               R"({"v":")" + std::to_string(s.version + 5) + R"(","k":"sd","id":"zz"})"});
  EXPECT_TRUE(resynced_because("gap: expected version " + std::to_string(s.version + 1)));
}

TEST_F(RedisFeedTest, ALostLastMessageIsFoundByTheVersionCheck) {
  // A write whose message never arrives (written around the scripts): no later message
  // reveals the gap, the periodic version comparison does.
  server_.run({"HSET",       "f:s:ghost", "container_id", "c", "labels",         "{}",
               "idle_ttl",   "0",         "expires_at",   "0", "last_active_at", "1",
               "created_at", "1",         "updated_at",   "1", "version",        "1",
               "access",     "",          "link_epoch",   "0"});
  server_.run({"ZADD", "f:sessions", "0", "ghost"});
  server_.run({"INCR", "f:version"});
  ASSERT_TRUE(resynced_because("never arrived"));
  bool has_ghost = false;
  for (const auto& s : probe_.snapshots.back().sessions) has_ghost |= s.id == "ghost";
  EXPECT_TRUE(has_ghost);
}

TEST_F(RedisFeedTest, AStoreThatWentBackInTimeIsReread) {
  Session s = session("a", "c", 0);
  ASSERT_FALSE(store_->put_session(s));
  ASSERT_FALSE(store_->put_session(s));
  ASSERT_TRUE(probe_.wait([&] { return probe_.changes.size() == 2; }));
  server_.run({"SET", "f:version", "1"});
  EXPECT_TRUE(resynced_because("went back"));
}

TEST_F(RedisFeedTest, AnUndecodableChangeMessageTriggersAResync) {
  server_.run({"PUBLISH", "f:changes", "this is not a change"});
  EXPECT_TRUE(resynced_because("undecodable change message"));
  // The feed keeps following the store after the resync.
  Session s = session("after", "c", 0);
  ASSERT_FALSE(store_->put_session(s));
  EXPECT_TRUE(
      probe_.wait([&] { return !probe_.changes.empty() && probe_.changes.back().id == "after"; }));
}

TEST_F(RedisFeedTest, AFlushedStoreIsAResetAndItsNewHistoryIsFollowed) {
  for (int i = 0; i < 3; ++i) {
    Session s = session("old" + std::to_string(i), "c", 0);
    ASSERT_FALSE(store_->put_session(s));
  }
  ASSERT_TRUE(probe_.wait([&] { return probe_.changes.size() == 3; }));
  EXPECT_FALSE(probe_.snapshots.back().reset);  // the first write of an empty store is not one
  ASSERT_EQ(server_.run({"FLUSHALL"}), "OK");
  Session s = session("new", "c", 0);
  ASSERT_FALSE(store_->put_session(s));  // version 1 of a new history
  ASSERT_TRUE(
      probe_.wait([&] { return !probe_.snapshots.empty() && probe_.snapshots.back().reset; }));
  const Snapshot& snap = probe_.snapshots.back();
  ASSERT_EQ(snap.sessions.size(), 1u);
  EXPECT_EQ(snap.sessions[0].id, "new");
  EXPECT_NE(snap.epoch, snap.previous_epoch);
  EXPECT_FALSE(snap.epoch.empty());
}

TEST_F(RedisFeedTest, ADroppedSubscriptionReconnectsAndResyncs) {
  ASSERT_EQ(server_.run({"CLIENT", "KILL", "TYPE", "pubsub"}), "1");
  ASSERT_TRUE(probe_.wait([&] { return probe_.states.size() >= 3; }));  // up, down, up
  EXPECT_EQ(probe_.states[1], false);
  EXPECT_EQ(probe_.states[2], true);
  EXPECT_TRUE(resynced_because("reconnect"));
}

TEST_F(RedisFeedTest, ARestartedRedisIsFollowedAgain) {
  server_.stop();
  ASSERT_TRUE(probe_.wait([&] { return probe_.states.size() >= 2; }));
  server_.start();
  ASSERT_TRUE(probe_.wait([&] { return probe_.states.size() >= 3; }, 10000));
  ASSERT_TRUE(resynced_because("reconnect"));
  StoreError e{"x"};
  Session s = session("after", "c", 0);
  for (int i = 0; i < 60 && e; ++i) {
    e = store_->put_session(s);
    if (e) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(
      probe_.wait([&] { return !probe_.changes.empty() && probe_.changes.back().id == "after"; }));
}

// ---- a store that refuses what the feed needs (ACLs of a real Redis) -----------------------

class RedisFeedRefused : public ::testing::Test {
 protected:
  // A user with every permission but those in `minus`, and a feed that logs in as it.
  void start_as(const std::string& user, std::vector<std::string_view> acl) {
    std::vector<std::string_view> cmd{"ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all"};
    cmd.insert(cmd.end(), acl.begin(), acl.end());
    ASSERT_EQ(server_.run(cmd), "OK");
    RedisEndpoint ep = server_.endpoint();
    ep.username = user;
    ep.password = "pw";
    feed_ = std::make_unique<RedisFeed>(ep, "f:", probe_.handlers(), 100);
    feed_->start();
  }
  void TearDown() override {
    if (feed_) feed_->stop();
  }
  size_t snapshots() {
    size_t n = 0;
    probe_.wait([&] {
      n = probe_.snapshots.size();
      return true;
    });
    return n;
  }

  testing::RedisServer server_;
  FeedProbe probe_;
  std::unique_ptr<RedisFeed> feed_;
};

TEST_F(RedisFeedRefused, ASubscriptionRefusedIsReportedAndNothingIsApplied) {
  start_as("nosub", {"resetchannels"});
  EXPECT_TRUE(probe_.went_down_because("SUBSCRIBE refused"));
  EXPECT_EQ(snapshots(), 0u);
}

TEST_F(RedisFeedRefused, ASnapshotReadRefusedIsReportedNotTakenAsAnEmptyStore) {
  RedisStore writer(server_.endpoint(), "f:");
  Session s = session("kept", "c", 0);
  ASSERT_FALSE(writer.put_session(s));
  start_as("nohgetall", {"-hgetall"});
  EXPECT_TRUE(probe_.went_down_because("snapshot: redis: NOPERM"));
  EXPECT_EQ(snapshots(), 0u);  // a partial snapshot would delete "kept" from every table
}

TEST_F(RedisFeedRefused, AVersionCheckRefusedIsReportedAndFollowedByAResyncWhenAllowed) {
  start_as("checker", {});
  ASSERT_TRUE(probe_.wait([&] { return !probe_.snapshots.empty(); }));
  ASSERT_EQ(server_.run({"ACL", "SETUSER", "checker", "-mget"}), "OK");
  EXPECT_TRUE(probe_.went_down_because("reading f:version: redis: NOPERM"));
  EXPECT_EQ(snapshots(), 1u);  // never a snapshot from a version it could not read
  ASSERT_EQ(server_.run({"ACL", "SETUSER", "checker", "+mget"}), "OK");
  // The feed reports itself up after the snapshot it resynchronised from.
  ASSERT_TRUE(probe_.wait(
      [&] {
        return probe_.snapshots.size() >= 2 && !probe_.states.empty() && probe_.states.back();
      },
      10000));
  EXPECT_EQ(probe_.snapshots.back().reason, "reconnect");
}

}  // namespace
}  // namespace sg::registry
