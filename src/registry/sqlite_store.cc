#include "registry/sqlite_store.h"

#include "net/address.h"

namespace sg::registry {

namespace {

// A prepared statement that finalises itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int step() { return s_ ? sqlite3_step(s_) : SQLITE_ERROR; }
  // Calls row() for every result row. A read that stops for any other reason than the end
  // of its rows (I/O error, corruption, busy) is an error, never a shorter answer.
  template <typename F>
  StoreError each(F&& row) {
    int rc;
    while ((rc = step()) == SQLITE_ROW) row(*this);
    if (rc == SQLITE_DONE) return {};
    return {std::string("sqlite: ") + sqlite3_errmsg(db_)};
  }
  // The one row a statement must produce (a read or UPDATE ... RETURNING).
  StoreError one() {
    if (step() == SQLITE_ROW) return {};
    return {std::string("sqlite: ") + sqlite3_errmsg(db_)};
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t i64(int col) { return sqlite3_column_int64(s_, col); }
  std::string text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

constexpr const char* kContainerCols =
    "id, address, status, generation, lease_ttl, heartbeat_at, created_at, updated_at, version";
constexpr const char* kSessionCols =
    "id, container_id, labels, idle_ttl, expires_at, last_active_at, created_at, updated_at, "
    "version, access, link_epoch, sleep_after";

Container container_from(Stmt& st) {
  Container c;
  c.id = st.text(0);
  c.address_text = st.text(1);
  net::parse_endpoint(c.address_text, c.address);
  c.status = parse_status(st.text(2)).value_or(ContainerStatus::kFailed);
  c.generation = static_cast<uint64_t>(st.i64(3));
  c.lease_ttl = st.i64(4);
  c.heartbeat_at = st.i64(5);
  c.created_at = st.i64(6);
  c.updated_at = st.i64(7);
  c.version = static_cast<uint64_t>(st.i64(8));
  return c;
}

Session session_from(Stmt& st) {
  Session s;
  s.id = st.text(0);
  s.container_id = st.text(1);
  labels_from_json(st.text(2), s.labels);
  s.idle_ttl = st.i64(3);
  s.expires_at = st.i64(4);
  s.last_active_at = st.i64(5);
  s.created_at = st.i64(6);
  s.updated_at = st.i64(7);
  s.version = static_cast<uint64_t>(st.i64(8));
  s.access = st.text(9);
  s.link_epoch = static_cast<uint64_t>(st.i64(10));
  s.sleep_after = st.i64(11);
  return s;
}

// Migrations, indexed by the schema version they produce.
constexpr const char* kMigrations[] = {
    nullptr,
    "CREATE TABLE containers ("
    "  id TEXT PRIMARY KEY, address TEXT NOT NULL, status TEXT NOT NULL,"
    "  generation INTEGER NOT NULL, lease_ttl INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, version INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY, container_id TEXT NOT NULL, labels TEXT NOT NULL,"
    "  idle_ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, version INTEGER NOT NULL);"
    "CREATE INDEX sessions_container ON sessions(container_id);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('version', 0);",
    // 2: preview access control
    "ALTER TABLE sessions ADD COLUMN access TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN link_epoch INTEGER NOT NULL DEFAULT 0;",
    // 3: wake and sleep leases
    "CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL);",
    // 4: per-session sleep_after
    "ALTER TABLE sessions ADD COLUMN sleep_after INTEGER NOT NULL DEFAULT 0;",
};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion + 1,
              "one migration per schema version");

}  // namespace

StoreError SqliteStore::finish(bool ok, bool commit) {
  std::string err;
  if (ok && exec(commit ? "COMMIT;" : "ROLLBACK;", err)) return {};
  if (err.empty()) err = sqlite3_errmsg(db_);
  std::string ignored;
  exec("ROLLBACK;", ignored);
  return {err};
}

bool SqliteStore::exec(const char* sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return false;
  }
  return true;
}

SqliteStore::SqliteStore(const std::string& path, bool synchronous_full, std::string& error) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    return;
  }
  sqlite3_busy_timeout(db_, 5000);
  if (!exec("PRAGMA journal_mode=WAL;", error)) return;
  if (!exec(synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;", error)) {
    return;
  }
  if (journal_mode() != "wal") {
    error = path + ": the database refused WAL mode (journal_mode=" + journal_mode() + ")";
    return;
  }
  if (synchronous() != (synchronous_full ? 2 : 1)) {
    error = path + ": the database did not accept the synchronous setting";
    return;
  }
  int version = 0;
  {
    Stmt st(db_, "PRAGMA user_version;");
    if (st.step() == SQLITE_ROW) version = static_cast<int>(st.i64(0));
  }
  if (version > kSchemaVersion) {
    error = path + ": schema version " + std::to_string(version) +
            " is newer than this sessiongate understands (" + std::to_string(kSchemaVersion) + ")";
    return;
  }
  for (int v = version + 1; v <= kSchemaVersion; ++v) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                      "PRAGMA user_version=" + std::to_string(v) + ";COMMIT;";
    if (!exec(sql.c_str(), error)) {
      std::string ignored;
      exec("ROLLBACK;", ignored);
      error = path + ": migration to schema " + std::to_string(v) + " failed: " + error;
      return;
    }
  }
}

SqliteStore::~SqliteStore() {
  sqlite3_close_v2(db_);
}

std::string SqliteStore::journal_mode() {
  Stmt st(db_, "PRAGMA journal_mode;");
  return st.step() == SQLITE_ROW ? st.text(0) : "";
}

int SqliteStore::synchronous() {
  Stmt st(db_, "PRAGMA synchronous;");
  return st.step() == SQLITE_ROW ? static_cast<int>(st.i64(0)) : -1;
}

StoreError SqliteStore::next_version(uint64_t& version) {
  Stmt st(db_, "UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value;");
  if (auto e = st.one()) return e;
  version = static_cast<uint64_t>(st.i64(0));
  return {};
}

StoreError SqliteStore::read_container(const std::string& id, std::optional<Container>& out) {
  Stmt st(db_, (std::string("SELECT ") + kContainerCols + " FROM containers WHERE id = ?").c_str());
  st.bind(1, id);
  out.reset();
  return st.each([&](Stmt& row) { out = container_from(row); });
}

StoreError SqliteStore::read_session(const std::string& id, std::optional<Session>& out) {
  Stmt st(db_, (std::string("SELECT ") + kSessionCols + " FROM sessions WHERE id = ?").c_str());
  st.bind(1, id);
  out.reset();
  return st.each([&](Stmt& row) { out = session_from(row); });
}

StoreError SqliteStore::rollback(StoreError e) {
  std::string ignored;
  exec("ROLLBACK;", ignored);
  return e;
}

StoreError SqliteStore::put_container(Container& c) {
  std::lock_guard lock(mu_);
  std::string err;
  if (!exec("BEGIN IMMEDIATE;", err)) return {err};
  std::optional<Container> prev;
  uint64_t version = 0;
  if (auto e = read_container(c.id, prev)) return rollback(e);
  if (auto e = next_version(version)) return rollback(e);
  const Millis now = now_ms();
  c.generation = prev ? prev->generation + 1 : 1;
  c.created_at = prev ? prev->created_at : now;
  c.updated_at = now;
  c.heartbeat_at = now;
  c.version = version;
  Stmt st(db_, "INSERT OR REPLACE INTO containers VALUES (?,?,?,?,?,?,?,?,?)");
  st.bind(1, c.id).bind(2, c.address_text).bind(3, std::string(to_string(c.status)));
  st.bind(4, static_cast<int64_t>(c.generation)).bind(5, c.lease_ttl).bind(6, c.heartbeat_at);
  st.bind(7, c.created_at).bind(8, c.updated_at).bind(9, static_cast<int64_t>(c.version));
  if (auto e = finish(st.step() == SQLITE_DONE, true)) return e;
  announce({Change::Kind::kContainerPut, c.id, c, std::nullopt, c.version});
  return {};
}

StoreError SqliteStore::heartbeat(const std::string& id, Millis now, Container& out, bool& found) {
  std::lock_guard lock(mu_);
  std::string err;
  if (!exec("BEGIN IMMEDIATE;", err)) return {err};
  std::optional<Container> prev;
  if (auto e = read_container(id, prev)) return rollback(e);
  found = prev.has_value();
  if (!found) return rollback({});
  out = *prev;
  out.heartbeat_at = now;
  out.updated_at = now;
  if (auto e = next_version(out.version)) return rollback(e);
  Stmt st(db_, "UPDATE containers SET heartbeat_at = ?, updated_at = ?, version = ? WHERE id = ?");
  st.bind(1, now).bind(2, now).bind(3, static_cast<int64_t>(out.version)).bind(4, id);
  if (auto e = finish(st.step() == SQLITE_DONE, true)) return e;
  announce({Change::Kind::kContainerPut, id, out, std::nullopt, out.version});
  return {};
}

StoreError SqliteStore::delete_container(const std::string& id, bool& found) {
  return delete_row("containers", Change::Kind::kContainerDeleted, id, found);
}

StoreError SqliteStore::get_container(const std::string& id, std::optional<Container>& out) {
  std::lock_guard lock(mu_);
  return read_container(id, out);
}

StoreError SqliteStore::list_containers(std::vector<Container>& out) {
  std::lock_guard lock(mu_);
  Stmt st(db_, (std::string("SELECT ") + kContainerCols + " FROM containers ORDER BY id").c_str());
  return st.each([&](Stmt& row) { out.push_back(container_from(row)); });
}

StoreError SqliteStore::put_session(Session& s) {
  std::lock_guard lock(mu_);
  std::string err;
  if (!exec("BEGIN IMMEDIATE;", err)) return {err};
  std::optional<Session> prev;
  uint64_t version = 0;
  if (auto e = read_session(s.id, prev)) return rollback(e);
  if (auto e = next_version(version)) return rollback(e);
  const Millis now = now_ms();
  s.created_at = prev ? prev->created_at : now;
  s.last_active_at = prev ? std::max(prev->last_active_at, now) : now;
  s.updated_at = now;
  s.version = version;
  if (prev) s.link_epoch = std::max(prev->link_epoch, s.link_epoch);
  Stmt st(db_, (std::string("INSERT OR REPLACE INTO sessions (") + kSessionCols +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
                   .c_str());
  st.bind(1, s.id).bind(2, s.container_id).bind(3, labels_to_json(s.labels));
  st.bind(4, s.idle_ttl).bind(5, s.expires_at).bind(6, s.last_active_at);
  st.bind(7, s.created_at).bind(8, s.updated_at).bind(9, static_cast<int64_t>(s.version));
  st.bind(10, s.access).bind(11, static_cast<int64_t>(s.link_epoch)).bind(12, s.sleep_after);
  if (auto e = finish(st.step() == SQLITE_DONE, true)) return e;
  announce({Change::Kind::kSessionPut, s.id, std::nullopt, s, s.version});
  return {};
}

StoreError SqliteStore::delete_session(const std::string& id, bool& found) {
  return delete_row("sessions", Change::Kind::kSessionDeleted, id, found);
}

StoreError SqliteStore::delete_row(const char* table, Change::Kind kind, const std::string& id,
                                   bool& found) {
  std::lock_guard lock(mu_);
  return delete_row_locked(table, kind, id, found);
}

StoreError SqliteStore::delete_row_locked(const char* table, Change::Kind kind,
                                          const std::string& id, bool& found) {
  std::string err;
  if (!exec("BEGIN IMMEDIATE;", err)) return {err};
  uint64_t version = 0;
  if (auto e = next_version(version)) return rollback(e);
  Stmt st(db_, (std::string("DELETE FROM ") + table + " WHERE id = ?").c_str());
  st.bind(1, id);
  bool ok = st.step() == SQLITE_DONE;
  found = sqlite3_changes(db_) > 0;
  // Nothing deleted: roll back so the version counter does not move for a no-op.
  if (auto e = finish(ok, found)) return e;
  if (found) announce({kind, id, std::nullopt, std::nullopt, version});
  return {};
}

StoreError SqliteStore::get_session(const std::string& id, std::optional<Session>& out) {
  std::lock_guard lock(mu_);
  return read_session(id, out);
}

StoreError SqliteStore::expire_sessions(const std::vector<std::string>& ids, Millis now,
                                        std::vector<Expiry>& out) {
  std::lock_guard lock(mu_);
  for (const auto& id : ids) {
    Expiry e{id, Expiry::Outcome::kGone, 0};
    std::optional<Session> s;
    if (auto err = read_session(id, s)) return err;
    if (s) {
      if (s->expires_at > 0 && now >= s->expires_at) {
        e.outcome = Expiry::Outcome::kExpired;
      } else if (s->idle_ttl > 0 && now - s->last_active_at >= s->idle_ttl) {
        e.outcome = Expiry::Outcome::kIdle;
      } else {
        e.outcome = Expiry::Outcome::kLive;
        e.last_active_at = s->last_active_at;
      }
      if (e.outcome != Expiry::Outcome::kLive) {
        bool found = false;
        if (auto err = delete_row_locked("sessions", Change::Kind::kSessionDeleted, id, found)) {
          return err;
        }
        if (!found) e.outcome = Expiry::Outcome::kGone;
      }
    }
    out.push_back(std::move(e));
  }
  return {};
}

StoreError SqliteStore::list_sessions(const SessionQuery& q, std::vector<Session>& out) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kSessionCols + " FROM sessions WHERE id > ?";
  // json_each matches any key exactly, whatever characters it holds (no JSON-path quoting).
  if (!q.label_key.empty()) {
    sql += " AND EXISTS (SELECT 1 FROM json_each(sessions.labels) WHERE key = ? AND value = ?)";
  }
  sql += " ORDER BY id LIMIT ?";
  Stmt st(db_, sql.c_str());
  int i = 1;
  st.bind(i++, q.after);
  if (!q.label_key.empty()) {
    st.bind(i, q.label_key);
    st.bind(i + 1, q.label_value);
    i += 2;
  }
  st.bind(i++, static_cast<int64_t>(q.limit));
  return st.each([&](Stmt& row) { out.push_back(session_from(row)); });
}

StoreError SqliteStore::touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) {
  if (seen.empty()) return {};
  std::lock_guard lock(mu_);
  std::string err;
  if (!exec("BEGIN IMMEDIATE;", err)) return {err};
  Stmt st(db_, "UPDATE sessions SET last_active_at = max(last_active_at, ?) WHERE id = ?");
  for (const auto& [id, at] : seen) {
    st.bind(1, at).bind(2, id);
    if (st.step() != SQLITE_DONE) return rollback({std::string("sqlite: ") + sqlite3_errmsg(db_)});
    st.reset();
  }
  if (!exec("COMMIT;", err)) return rollback({err});
  return {};
}

StoreError SqliteStore::acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                                      Millis now, bool& acquired) {
  std::lock_guard lock(mu_);
  // One statement: taken when absent, expired, or already ours (several processes may share
  // the file, and SQLite runs each statement atomically).
  Stmt st(db_,
          "INSERT INTO leases (name, owner, expires_at) VALUES (?1, ?2, ?3) "
          "ON CONFLICT(name) DO UPDATE SET owner = ?2, expires_at = ?3 "
          "WHERE leases.expires_at <= ?4 OR leases.owner = ?2");
  st.bind(1, name).bind(2, owner).bind(3, now + ttl).bind(4, now);
  if (st.step() != SQLITE_DONE) return {std::string("sqlite: ") + sqlite3_errmsg(db_)};
  acquired = sqlite3_changes(db_) == 1;
  return {};
}

StoreError SqliteStore::release_lease(const std::string& name, const std::string& owner) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "DELETE FROM leases WHERE name = ?1 AND owner = ?2");
  st.bind(1, name).bind(2, owner);
  if (st.step() != SQLITE_DONE) return {std::string("sqlite: ") + sqlite3_errmsg(db_)};
  return {};
}

bool SqliteStore::ping() {
  std::lock_guard lock(mu_);
  Stmt st(db_, "SELECT count(*) FROM meta;");
  return st.ok() && st.step() == SQLITE_ROW;
}

StoreError SqliteStore::load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                                 uint64_t& version) {
  std::lock_guard lock(mu_);
  // One read transaction: the version and both tables are one consistent picture.
  std::string err;
  if (!exec("BEGIN;", err)) return {err};
  {
    Stmt st(db_, "SELECT value FROM meta WHERE key = 'version'");
    if (auto e = st.one()) return rollback(e);
    version = static_cast<uint64_t>(st.i64(0));
  }
  {
    Stmt st(db_, (std::string("SELECT ") + kContainerCols + " FROM containers").c_str());
    if (auto e = st.each([&](Stmt& row) { containers.push_back(container_from(row)); })) {
      return rollback(e);
    }
  }
  Stmt st(db_, (std::string("SELECT ") + kSessionCols + " FROM sessions").c_str());
  if (auto e = st.each([&](Stmt& row) { sessions.push_back(session_from(row)); })) {
    return rollback(e);
  }
  return rollback({});  // a read: nothing to commit
}

}  // namespace sg::registry
