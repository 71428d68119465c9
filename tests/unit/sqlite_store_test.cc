#include "registry/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "net/address.h"
#include "registry/registry.h"

namespace sg::registry {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sg-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Container container(const std::string& id, const std::string& addr) {
    Container c;
    c.id = id;
    c.address_text = addr;
    net::parse_endpoint(addr, c.address);
    c.status = ContainerStatus::kReady;
    return c;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, DurableSettingsAreReadBack) {
  std::string err;
  SqliteStore s(path_, true, err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(s.journal_mode(), "wal");
  EXPECT_EQ(s.synchronous(), 2);
}

TEST_F(SqliteStoreTest, ContainerGenerationsAndChanges) {
  std::string err;
  SqliteStore s(path_, true, err);
  std::vector<Change> changes;
  s.on_change([&](const Change& c) { changes.push_back(c); });
  Container c = container("c1", "10.0.0.1:80");
  ASSERT_FALSE(s.put_container(c));
  EXPECT_EQ(c.generation, 1u);
  ASSERT_FALSE(s.put_container(c));
  EXPECT_EQ(c.generation, 2u);
  Container hb;
  bool found = false;
  ASSERT_FALSE(s.heartbeat("c1", c.heartbeat_at + 5000, hb, found));
  EXPECT_TRUE(found);
  EXPECT_EQ(hb.generation, 2u);
  EXPECT_EQ(s.get_container("c1")->heartbeat_at, c.heartbeat_at + 5000);
  ASSERT_FALSE(s.heartbeat("nope", 1, hb, found));
  EXPECT_FALSE(found);
  ASSERT_FALSE(s.delete_container("c1", found));
  EXPECT_TRUE(found);
  ASSERT_FALSE(s.delete_container("c1", found));
  EXPECT_FALSE(found);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes.back().kind, Change::Kind::kContainerDeleted);
  for (size_t i = 1; i < changes.size(); ++i) EXPECT_GT(changes[i].version, changes[i - 1].version);
}

TEST_F(SqliteStoreTest, SessionsLabelsPagingActivity) {
  std::string err;
  {
    SqliteStore s(path_, true, err);
    for (int i = 0; i < 10; ++i) {
      Session x;
      x.id = "s" + std::to_string(i);
      x.container_id = "c";
      x.labels["tenant"] = i % 2 ? "a" : "b";
      x.labels["we.ird\"key"] = "v";
      ASSERT_FALSE(s.put_session(x));
    }
    SessionQuery q;
    q.label_key = "tenant";
    q.label_value = "a";
    q.limit = 3;
    auto page = s.list_sessions(q);
    ASSERT_EQ(page.size(), 3u);
    EXPECT_EQ(page[0].id, "s1");
    q.after = page.back().id;
    auto page2 = s.list_sessions(q);
    ASSERT_EQ(page2.size(), 2u);
    EXPECT_EQ(page2[1].id, "s9");
    q.label_key = "we.ird\"key";
    q.label_value = "v";
    q.after.clear();
    q.limit = 100;
    EXPECT_EQ(s.list_sessions(q).size(), 10u);
    const Millis t = s.get_session("s1")->last_active_at;
    ASSERT_FALSE(s.touch_sessions({{"s1", t + 1000}, {"s2", 1}, {"ghost", t}}));
    EXPECT_EQ(s.get_session("s1")->last_active_at, t + 1000);
    EXPECT_GE(s.get_session("s2")->last_active_at, t - 1000);  // never lowered
  }
  SqliteStore reopened(path_, true, err);  // migrations are idempotent; data survives
  ASSERT_EQ(err, "");
  EXPECT_EQ(reopened.get_session("s3")->labels.at("tenant"), "a");
}

TEST_F(SqliteStoreTest, RefusesNewerSchema) {
  std::string err;
  { SqliteStore s(path_, true, err); }
  sqlite3* db = nullptr;
  sqlite3_open(path_.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99;", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  SqliteStore s(path_, true, err);
  EXPECT_NE(err.find("schema version 99"), std::string::npos) << err;
}

TEST_F(SqliteStoreTest, RegistryDerivesRoutesAndSweeps) {
  std::string err;
  SqliteStore s(path_, true, err);
  std::vector<std::pair<std::string, RoutePtr>> published;
  Registry reg(s, [&](const std::string& id, RoutePtr r) { published.emplace_back(id, r); });
  reg.load();
  Session x;
  x.id = "t";
  x.container_id = "c";
  x.idle_ttl = 1000;
  ASSERT_FALSE(s.put_session(x));
  ASSERT_EQ(published.size(), 1u);
  EXPECT_FALSE(published.back().second->has_container);
  EXPECT_EQ(state_of(*published.back().second, now_ms()), RouteState::kNoContainer);
  Container c = container("c", "10.0.0.9:4321");
  c.lease_ttl = 60000;
  ASSERT_FALSE(s.put_container(c));
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published.back().second->address_text, "10.0.0.9:4321");
  EXPECT_EQ(state_of(*published.back().second, now_ms()), RouteState::kReady);
  EXPECT_EQ(state_of(*published.back().second, now_ms() + 61000), RouteState::kLeaseExpired);
  reg.record_activity("t", now_ms() + 5000);
  EXPECT_TRUE(reg.sweep(now_ms() + 5500).idle.empty());  // active 500 ms before
  auto swept = reg.sweep(now_ms() + 7000);
  ASSERT_EQ(swept.idle.size(), 1u);
  EXPECT_EQ(published.back().second, nullptr);
  EXPECT_FALSE(s.get_session("t").has_value());
}

}  // namespace
}  // namespace sg::registry
