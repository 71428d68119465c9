// One behaviour for every registry store: the same tests run against SQLite (a temporary
// file) and Redis (a real redis-server on loopback, one key prefix per test).
#include <gtest/gtest.h>

#include <unordered_map>

#include <filesystem>
#include <memory>
#include <thread>

#include <boost/json.hpp>
#include "net/address.h"

#include "registry/dynamo_store.h"
#include "registry/redis_store.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"
#include "support/dynalite_server.h"
#include "support/redis_server.h"

namespace sg::registry {
namespace {

testing::RedisServer& shared_redis() {
  static testing::RedisServer server;  // lives for the whole test binary
  return server;
}

testing::DynaliteServer& shared_dynalite() {
  static testing::DynaliteServer server;
  return server;
}

// Two tables per test, created as an operator would (string partition keys), on dynalite.
std::unique_ptr<Store> dynamo_store(const std::string& name) {
  DynamoConfig c;
  c.client.region = "us-west-2";
  c.client.endpoint.tls = false;
  c.client.endpoint.host = "127.0.0.1";
  c.client.endpoint.port = static_cast<uint16_t>(shared_dynalite().port());
  c.sessions_table = "s-" + name;
  c.containers_table = "c-" + name;
  c.scan_segments = 2;
  ::setenv("AWS_ACCESS_KEY_ID", "test", 0);
  ::setenv("AWS_SECRET_ACCESS_KEY", "test", 0);
  auto client = std::make_shared<aws::DynamoClient>(
      c.client, std::make_shared<aws::CredentialChain>(), nullptr);
  namespace json = boost::json;
  for (auto [table, key] : {std::pair{c.sessions_table, c.attributes.session_id},
                            std::pair{c.containers_table, c.attributes.container_id}}) {
    json::object req{
        {"TableName", table},
        {"KeySchema", json::array{json::object{{"AttributeName", key}, {"KeyType", "HASH"}}}},
        {"AttributeDefinitions",
         json::array{json::object{{"AttributeName", key}, {"AttributeType", "S"}}}},
        {"BillingMode", "PAY_PER_REQUEST"}};
    json::object resp;
    auto e = client->call("CreateTable", req, resp);
    EXPECT_FALSE(e) << e.text();
    for (int i = 0; i < 100; ++i) {  // dynalite makes a table ACTIVE after a moment
      json::object d;
      client->call("DescribeTable", json::object{{"TableName", table}}, d);
      if (json::serialize(d).find("\"ACTIVE\"") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return std::make_unique<DynamoStore>(c, client);
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string safe;
    for (char c : name) safe.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    if (GetParam() == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() /
             ("sg-conf-" + std::to_string(::getpid()) + "-" + safe);
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      std::string err;
      store_ = std::make_unique<SqliteStore>((dir_ / "t.db").string(), true, err);
      ASSERT_EQ(err, "");
    } else if (GetParam() == "dynamodb") {
      store_ = dynamo_store(safe.substr(0, 200));
    } else {
      store_ = std::make_unique<RedisStore>(shared_redis().endpoint(), safe + ":");
    }
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static Container container(const std::string& id, const std::string& addr) {
    Container c;
    c.id = id;
    c.address_text = addr;
    net::parse_endpoint(addr, c.address);
    c.status = ContainerStatus::kReady;
    return c;
  }
  static Session session(const std::string& id, const std::string& container_id) {
    Session s;
    s.id = id;
    s.container_id = container_id;
    return s;
  }
  std::optional<Session> get_session(const std::string& id) {
    std::optional<Session> out;
    EXPECT_FALSE(store_->get_session(id, out));
    return out;
  }
  std::optional<Container> get_container(const std::string& id) {
    std::optional<Container> out;
    EXPECT_FALSE(store_->get_container(id, out));
    return out;
  }
  std::vector<Session> list(const SessionQuery& q) {
    std::vector<Session> out;
    EXPECT_FALSE(store_->list_sessions(q, out));
    return out;
  }

  std::unique_ptr<Store> store_;
  std::filesystem::path dir_;
};

TEST_P(StoreConformance, ContainerGenerationsAndChanges) {
  Store& s = *store_;
  std::vector<Change> changes;
  s.on_change([&](const Change& c) { changes.push_back(c); });
  Container c = container("c1", "10.0.0.1:80");
  ASSERT_FALSE(s.put_container(c));
  EXPECT_EQ(c.generation, 1u);
  const Millis created = c.created_at;
  ASSERT_FALSE(s.put_container(c));
  EXPECT_EQ(c.generation, 2u);
  EXPECT_EQ(c.created_at, created);
  Container hb;
  bool found = false;
  ASSERT_FALSE(s.heartbeat("c1", c.heartbeat_at + 5000, hb, found));
  EXPECT_TRUE(found);
  EXPECT_EQ(hb.generation, 2u);
  EXPECT_EQ(hb.address_text, "10.0.0.1:80");
  EXPECT_EQ(get_container("c1")->heartbeat_at, c.heartbeat_at + 5000);
  ASSERT_FALSE(s.heartbeat("nope", 1, hb, found));
  EXPECT_FALSE(found);
  std::vector<Container> all;
  ASSERT_FALSE(s.list_containers(all));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, ContainerStatus::kReady);
  ASSERT_FALSE(s.delete_container("c1", found));
  EXPECT_TRUE(found);
  ASSERT_FALSE(s.delete_container("c1", found));
  EXPECT_FALSE(found);
  EXPECT_FALSE(get_container("c1").has_value());
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes.back().kind, Change::Kind::kContainerDeleted);
  EXPECT_EQ(changes[2].container->heartbeat_at, c.heartbeat_at + 5000);
  for (size_t i = 1; i < changes.size(); ++i) EXPECT_GT(changes[i].version, changes[i - 1].version);
}

TEST_P(StoreConformance, IPv6AddressesRoundTrip) {
  Container c = container("v6", "[fd00::5]:5173");
  ASSERT_FALSE(store_->put_container(c));
  auto got = get_container("v6");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->address_text, "[fd00::5]:5173");
  EXPECT_EQ(got->address.port(), 5173);
}

TEST_P(StoreConformance, SessionsLabelsPaging) {
  for (int i = 0; i < 10; ++i) {
    Session x = session("s" + std::to_string(i), "c");
    x.labels["tenant"] = i % 2 ? "a" : "b";
    x.labels["we.ird\"key =x"] = "v al";
    ASSERT_FALSE(store_->put_session(x));
  }
  SessionQuery q;
  q.label_key = "tenant";
  q.label_value = "a";
  q.limit = 3;
  auto page = list(q);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].id, "s1");
  q.after = page.back().id;
  auto page2 = list(q);
  ASSERT_EQ(page2.size(), 2u);
  EXPECT_EQ(page2[1].id, "s9");
  q.label_key = "we.ird\"key =x";
  q.label_value = "v al";
  q.after.clear();
  q.limit = 100;
  EXPECT_EQ(list(q).size(), 10u);
  q.label_value = "v";  // a prefix of the value is not a match
  EXPECT_EQ(list(q).size(), 0u);
  // Relabelling moves the session between label sets.
  Session s1 = *get_session("s1");
  s1.labels = {{"tenant", "b"}};
  ASSERT_FALSE(store_->put_session(s1));
  q = SessionQuery{};
  q.label_key = "tenant";
  q.label_value = "a";
  EXPECT_EQ(list(q).size(), 4u);
  q.label_value = "b";
  EXPECT_EQ(list(q).size(), 6u);
  // Deleting removes it from every listing.
  bool found = false;
  ASSERT_FALSE(store_->delete_session("s1", found));
  EXPECT_TRUE(found);
  EXPECT_EQ(list(q).size(), 5u);
  EXPECT_EQ(list(SessionQuery{}).size(), 9u);
  ASSERT_FALSE(store_->delete_session("s1", found));
  EXPECT_FALSE(found);
}

TEST_P(StoreConformance, PutKeepsCreatedRaisesEpochAndActivity) {
  Session x = session("t", "c");
  x.access = "link";
  x.link_epoch = 3;
  x.idle_ttl = 60000;
  ASSERT_FALSE(store_->put_session(x));
  const Millis created = x.created_at;
  EXPECT_GT(x.version, 0u);
  const uint64_t v1 = x.version;
  ASSERT_FALSE(store_->touch_sessions({{"t", x.last_active_at + 100000}, {"ghost", 5}}));
  x.link_epoch = 1;  // epochs never go back
  x.access = "public";
  ASSERT_FALSE(store_->put_session(x));
  EXPECT_EQ(x.created_at, created);
  EXPECT_EQ(x.link_epoch, 3u);
  EXPECT_GT(x.version, v1);
  auto got = get_session("t");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->access, "public");
  EXPECT_EQ(got->idle_ttl, 60000);
  EXPECT_EQ(got->last_active_at, x.last_active_at);
  EXPECT_GE(got->last_active_at, created + 100000);  // a put does not lower activity
  ASSERT_FALSE(store_->touch_sessions({{"t", 1}}));
  EXPECT_EQ(get_session("t")->last_active_at, got->last_active_at);  // never lowered
  EXPECT_FALSE(get_session("ghost").has_value());
}

TEST_P(StoreConformance, ExpiryDecidesByTheStoresRecordAndDeletesOnce) {
  Session idle = session("idle", "c");
  idle.idle_ttl = 1000;
  Session busy = session("busy", "c");
  busy.idle_ttl = 1000;
  Session ends = session("ends", "c");
  ends.expires_at = now_ms() + 500;
  for (Session* s : {&idle, &busy, &ends}) ASSERT_FALSE(store_->put_session(*s));
  const Millis later = now_ms() + 5000;
  // Another router saw "busy" recently and saved it.
  ASSERT_FALSE(store_->touch_sessions({{"busy", later - 200}}));
  std::vector<Change> changes;
  store_->on_change([&](const Change& c) { changes.push_back(c); });
  std::vector<Expiry> out;
  ASSERT_FALSE(store_->expire_sessions({"idle", "busy", "ends", "never"}, later, out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].outcome, Expiry::Outcome::kIdle);
  EXPECT_EQ(out[1].outcome, Expiry::Outcome::kLive);
  EXPECT_EQ(out[1].last_active_at, later - 200);
  EXPECT_EQ(out[2].outcome, Expiry::Outcome::kExpired);
  EXPECT_EQ(out[3].outcome, Expiry::Outcome::kGone);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].kind, Change::Kind::kSessionDeleted);
  // A second sweeper (another router) finds nothing left to do.
  out.clear();
  ASSERT_FALSE(store_->expire_sessions({"idle", "ends"}, later, out));
  EXPECT_EQ(out[0].outcome, Expiry::Outcome::kGone);
  EXPECT_EQ(out[1].outcome, Expiry::Outcome::kGone);
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_TRUE(get_session("busy").has_value());
}

TEST_P(StoreConformance, LeaseHasOneOwnerUntilItEnds) {
  bool got = false;
  ASSERT_FALSE(store_->acquire_lease("wake/t1", "router-a", 300, now_ms(), got));
  EXPECT_TRUE(got);
  ASSERT_FALSE(store_->acquire_lease("wake/t1", "router-b", 300, now_ms(), got));
  EXPECT_FALSE(got) << "a second router must not wake the same session";
  ASSERT_FALSE(store_->acquire_lease("wake/t2", "router-b", 300, now_ms(), got));
  EXPECT_TRUE(got) << "leases are per name";
  ASSERT_FALSE(store_->acquire_lease("wake/t1", "router-a", 300, now_ms(), got));
  EXPECT_TRUE(got) << "its owner renews it (a second wake soon after the first)";
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  ASSERT_FALSE(store_->acquire_lease("wake/t1", "router-b", 300, now_ms(), got));
  EXPECT_TRUE(got) << "an ended lease is free again";
}

// Regression: a finished wake kept its lease until hold_timeout, so a router started again
// (a new owner) within it waited for a wake nobody was running.
TEST_P(StoreConformance, ReleasedLeaseIsFreeAtOnceButOnlyItsOwnerReleasesIt) {
  bool got = false;
  ASSERT_FALSE(store_->acquire_lease("wake/r1", "router-a", 60000, now_ms(), got));
  ASSERT_TRUE(got);
  ASSERT_FALSE(store_->release_lease("wake/r1", "router-b"));
  ASSERT_FALSE(store_->acquire_lease("wake/r1", "router-b", 60000, now_ms(), got));
  EXPECT_FALSE(got) << "another owner's release must not end the lease";
  ASSERT_FALSE(store_->release_lease("wake/r1", "router-a"));
  ASSERT_FALSE(store_->acquire_lease("wake/r1", "router-b", 60000, now_ms(), got));
  EXPECT_TRUE(got) << "a released lease is free before its ttl";
  ASSERT_FALSE(store_->release_lease("wake/never-taken", "router-a"))
      << "nothing to release is fine";
}

TEST_P(StoreConformance, SessionSleepAfterRoundTrips) {
  Session s = session("warm", "c");
  s.sleep_after = -1;
  ASSERT_FALSE(store_->put_session(s));
  EXPECT_EQ(get_session("warm")->sleep_after, -1);
  s.sleep_after = 90000;
  ASSERT_FALSE(store_->put_session(s));
  EXPECT_EQ(get_session("warm")->sleep_after, 90000);
  std::vector<Container> cs;
  std::vector<Session> ss;
  uint64_t version = 0;
  ASSERT_FALSE(store_->load_all(cs, ss, version));
  ASSERT_EQ(ss.size(), 1u);
  EXPECT_EQ(ss[0].sleep_after, 90000);
}

TEST_P(StoreConformance, SleepingStatusRoundTrips) {
  Container c = container("asleep", "10.0.0.9:4321");
  c.status = ContainerStatus::kSleeping;
  ASSERT_FALSE(store_->put_container(c));
  auto back = get_container("asleep");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->status, ContainerStatus::kSleeping);
}

TEST_P(StoreConformance, LoadAllReportsTheVersion) {
  Container c = container("c", "10.0.0.2:3000");
  ASSERT_FALSE(store_->put_container(c));
  Session s = session("a", "c");
  ASSERT_FALSE(store_->put_session(s));
  std::vector<Container> cs;
  std::vector<Session> ss;
  uint64_t version = 0;
  ASSERT_FALSE(store_->load_all(cs, ss, version));
  ASSERT_EQ(cs.size(), 1u);
  ASSERT_EQ(ss.size(), 1u);
  EXPECT_EQ(version, s.version);
  EXPECT_TRUE(store_->ping());
}

TEST_P(StoreConformance, ManySessionsPageCompletely) {
  for (int i = 0; i < 2500; ++i) {
    Session s = session("m" + std::to_string(100000 + i), "c");
    ASSERT_FALSE(store_->put_session(s));
  }
  std::vector<Container> cs;
  std::vector<Session> ss;
  uint64_t version = 0;
  ASSERT_FALSE(store_->load_all(cs, ss, version));
  EXPECT_EQ(ss.size(), 2500u);
  SessionQuery q;
  q.limit = 1000;
  size_t seen = 0;
  for (;;) {
    auto page = list(q);
    seen += page.size();
    if (page.size() < q.limit) break;
    q.after = page.back().id;
  }
  EXPECT_EQ(seen, 2500u);
  // Activity and expiry take any number of sessions (the Redis store sends them in batches).
  std::vector<std::pair<std::string, Millis>> active;
  std::vector<std::string> ids;
  for (const auto& s : ss) {
    active.emplace_back(s.id, s.last_active_at + 1000);
    ids.push_back(s.id);
  }
  ASSERT_FALSE(store_->touch_sessions(active));
  EXPECT_EQ(get_session("m101234")->last_active_at, ss[1234].last_active_at + 1000);
  // Every one of them (the DynamoDB store writes them from several lanes at once).
  std::unordered_map<std::string, Millis> wanted(active.begin(), active.end());
  size_t touched = 0;
  q.after.clear();
  for (;;) {
    auto page = list(q);
    for (const auto& s : page) touched += s.last_active_at == wanted[s.id] ? 1 : 0;
    if (page.size() < q.limit) break;
    q.after = page.back().id;
  }
  EXPECT_EQ(touched, 2500u);
  std::vector<Expiry> out;
  ASSERT_FALSE(store_->expire_sessions(ids, now_ms(), out));
  ASSERT_EQ(out.size(), 2500u);
  EXPECT_EQ(out[2499].id, ids[2499]);
  for (const auto& e : out) EXPECT_EQ(e.outcome, Expiry::Outcome::kLive);
}

TEST_P(StoreConformance, RegistryDerivesRoutesAndSweeps) {
  std::vector<std::pair<std::string, RoutePtr>> published;
  Registry reg(*store_, [&](const std::string& id, RoutePtr r) { published.emplace_back(id, r); });
  StoreError err;
  reg.load(err);
  ASSERT_FALSE(err);
  Session x = session("t", "c");
  x.idle_ttl = 1000;
  ASSERT_FALSE(store_->put_session(x));
  ASSERT_EQ(published.size(), 1u);
  EXPECT_FALSE(published.back().second->has_container);
  EXPECT_EQ(state_of(*published.back().second, now_ms()), RouteState::kNoContainer);
  Container c = container("c", "10.0.0.9:4321");
  c.lease_ttl = 60000;
  ASSERT_FALSE(store_->put_container(c));
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published.back().second->address_text, "10.0.0.9:4321");
  EXPECT_EQ(state_of(*published.back().second, now_ms()), RouteState::kReady);
  EXPECT_EQ(state_of(*published.back().second, now_ms() + 61000), RouteState::kLeaseExpired);
  reg.record_activity("t", now_ms() + 5000);
  ASSERT_FALSE(reg.flush_activity());
  EXPECT_TRUE(reg.sweep(now_ms() + 5500).idle.empty());  // active 500 ms before
  auto swept = reg.sweep(now_ms() + 7000);
  ASSERT_EQ(swept.idle.size(), 1u);
  EXPECT_EQ(published.back().second, nullptr);
  EXPECT_FALSE(get_session("t").has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance, ::testing::Values("sqlite", "redis", "dynamodb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sg::registry
