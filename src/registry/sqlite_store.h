// The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a write
// is on disk before it is acknowledged. Schema versioned through PRAGMA user_version.
#pragma once

#include <sqlite3.h>

#include <mutex>
#include <string>

#include "registry/store.h"

namespace sg::registry {

class SqliteStore final : public Store {
 public:
  // Opens (creating and migrating as needed). On failure `error` is set and the store unusable.
  SqliteStore(const std::string& path, bool synchronous_full, std::string& error);
  ~SqliteStore() override;

  StoreError put_container(Container& c) override;
  StoreError heartbeat(const std::string& id, Millis now, Container& out, bool& found) override;
  StoreError delete_container(const std::string& id, bool& found) override;
  StoreError get_container(const std::string& id, std::optional<Container>& out) override;
  StoreError list_containers(std::vector<Container>& out) override;

  StoreError put_session(Session& s) override;
  StoreError delete_session(const std::string& id, bool& found) override;
  StoreError get_session(const std::string& id, std::optional<Session>& out) override;
  StoreError list_sessions(const SessionQuery& q, std::vector<Session>& out) override;
  StoreError touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) override;

  StoreError expire_sessions(const std::vector<std::string>& ids, Millis now,
                             std::vector<Expiry>& out) override;
  StoreError load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                      uint64_t& version) override;
  StoreError acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                           Millis now, bool& acquired) override;
  StoreError release_lease(const std::string& name, const std::string& owner) override;
  bool ping() override;

  // What the database reports back, for the startup log and tests.
  std::string journal_mode();
  int synchronous();
  static constexpr int kSchemaVersion = 4;

 private:
  bool exec(const char* sql, std::string& error);
  // Ends the open transaction: COMMIT (or ROLLBACK when !commit) if `ok`, else ROLLBACK and
  // report the database's error.
  StoreError finish(bool ok, bool commit);
  StoreError delete_row(const char* table, Change::Kind kind, const std::string& id, bool& found);
  StoreError delete_row_locked(const char* table, Change::Kind kind, const std::string& id,
                               bool& found);
  StoreError next_version(uint64_t& version);
  StoreError read_container(const std::string& id, std::optional<Container>& out);
  StoreError read_session(const std::string& id, std::optional<Session>& out);
  // Rolls back the open transaction and passes `e` on.
  StoreError rollback(StoreError e);

  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

}  // namespace sg::registry
