#include "registry/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>

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

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  std::string err;
  {
    SqliteStore s(path_, true, err);
    Session x;
    x.id = "s3";
    x.container_id = "c";
    x.labels["tenant"] = "a";
    ASSERT_FALSE(s.put_session(x));
  }
  SqliteStore reopened(path_, true, err);  // migrations are idempotent; data survives
  ASSERT_EQ(err, "");
  std::optional<Session> got;
  ASSERT_FALSE(reopened.get_session("s3", got));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->labels.at("tenant"), "a");
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

}  // namespace
}  // namespace sg::registry
