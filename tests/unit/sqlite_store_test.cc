#include "registry/sqlite_store.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>

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

// ---- failure paths: every one is an error with the reason, and nothing half-done ----------

void exec_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* msg = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "");
  sqlite3_close(db);
}

Session make_session(const std::string& id) {
  Session s;
  s.id = id;
  s.container_id = "c";
  return s;
}

TEST_F(SqliteStoreTest, AFileThatCannotBeOpenedIsAnError) {
  std::string err;
  SqliteStore s((dir_ / "no" / "such" / "dir" / "t.db").string(), true, err);
  EXPECT_NE(err.find("cannot open"), std::string::npos) << err;
  EXPECT_NE(err.find("no/such/dir/t.db"), std::string::npos) << err;
}

TEST_F(SqliteStoreTest, ADatabaseWithoutWalIsRefused) {
  std::string err;
  SqliteStore s(":memory:", true, err);  // in-memory databases cannot use WAL
  EXPECT_NE(err.find("refused WAL mode (journal_mode=memory)"), std::string::npos) << err;
}

TEST_F(SqliteStoreTest, AFailedMigrationIsRolledBackAndReported) {
  // A schema-1 database that already has a column migration 2 adds.
  exec_sql(path_,
           "CREATE TABLE sessions (id TEXT PRIMARY KEY, access TEXT);"
           "PRAGMA user_version=1;");
  std::string err;
  { SqliteStore s(path_, true, err); }
  EXPECT_NE(err.find("migration to schema 2 failed: duplicate column name: access"),
            std::string::npos)
      << err;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version;", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // still the old schema, nothing half-applied
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, AWriteThatFailsIsRolledBackAndNotAnnounced) {
  std::string err;
  SqliteStore s(path_, true, err);
  ASSERT_EQ(err, "");
  std::vector<Change> announced;
  s.on_change([&](const Change& c) { announced.push_back(c); });
  Session ok = make_session("before");
  ASSERT_FALSE(s.put_session(ok));
  // Fault injection through SQLite itself: this row is refused by a trigger.
  exec_sql(path_,
           "CREATE TRIGGER refuse BEFORE INSERT ON sessions WHEN NEW.id = 'boom' "
           "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
  Session boom = make_session("boom");
  StoreError e = s.put_session(boom);
  EXPECT_NE(e.message.find("refused by the test"), std::string::npos) << e.message;
  std::optional<Session> got;
  ASSERT_FALSE(s.get_session("boom", got));
  EXPECT_FALSE(got);
  Session after = make_session("after");
  ASSERT_FALSE(s.put_session(after));
  EXPECT_EQ(after.version, ok.version + 1);  // the failed write used no version
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[1].id, "after");
}

TEST_F(SqliteStoreTest, ACommitThatCannotBeWrittenIsRolledBackAndNotAnnounced) {
  std::string err;
  SqliteStore s(path_, true, err);
  ASSERT_EQ(err, "");
  std::vector<Change> announced;
  s.on_change([&](const Change& c) { announced.push_back(c); });
  Session first = make_session("first");
  ASSERT_FALSE(s.put_session(first));
  // The disk is full: no file of this process may grow (the WAL grows at commit).
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto saved = signal(SIGXFSZ, SIG_IGN);
  const auto wal_size = std::filesystem::file_size(path_ + "-wal");
  struct rlimit full = old;
  full.rlim_cur = wal_size;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &full), 0);
  Session big = make_session("big");
  big.labels["fill"] = std::string(64 * 1024, 'x');  // needs new WAL pages
  StoreError e = s.put_session(big);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, saved);
  EXPECT_TRUE(e) << "a write that could not reach the disk was acknowledged";
  EXPECT_EQ(announced.size(), 1u);
  std::optional<Session> got;
  ASSERT_FALSE(s.get_session("big", got));
  EXPECT_FALSE(got);
  Session later = make_session("later");
  ASSERT_FALSE(s.put_session(later)) << "the store did not recover once space was back";
  EXPECT_EQ(later.version, first.version + 1);
}

TEST_F(SqliteStoreTest, ACorruptDatabaseIsAnErrorNotAnEmptyRegistry) {
  std::string err;
  {
    SqliteStore s(path_, true, err);
    ASSERT_EQ(err, "");
    for (int i = 0; i < 200; ++i) {
      Session x = make_session("s" + std::to_string(i));
      x.labels["pad"] = std::string(200, 'p');
      ASSERT_FALSE(s.put_session(x));
    }
  }  // closing checkpoints the WAL into the file
  const auto size = std::filesystem::file_size(path_);
  ASSERT_GT(size, 16 * 4096u);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(4096 * 8, '\xa5');
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  SqliteStore s(path_, true, err);
  ASSERT_EQ(err, "");  // the header and schema pages are intact
  std::vector<Container> containers;
  std::vector<Session> sessions;
  uint64_t version = 0;
  StoreError e = s.load_all(containers, sessions, version);
  EXPECT_NE(e.message.find("malformed"), std::string::npos) << e.message;
  std::vector<Session> listed;
  SessionQuery q;
  q.limit = 1000;
  EXPECT_TRUE(s.list_sessions(q, listed));
}

}  // namespace
}  // namespace sg::registry
