#include "registry/store_factory.h"

#include <filesystem>

#include "registry/redis_feed.h"
#include "registry/redis_store.h"
#include "registry/sqlite_store.h"

namespace sg::registry {

bool open_store(const StoreConfig& c, OpenedStore& out, std::string& error) {
  if (c.type == "redis") {
    const RedisConfig& r = c.redis;
    const RedisEndpoint& ep = r.endpoint;
    out.store = std::make_unique<RedisStore>(ep, r.prefix, c.concurrency);
    out.shared = true;
    out.description = "redis " + ep.host + ":" + std::to_string(ep.port) + "/" +
                      std::to_string(ep.db) + " prefix \"" + r.prefix + "\"" +
                      (ep.username.empty() ? "" : " user " + ep.username);
    return true;
  }
  const SqliteConfig& s = c.sqlite;
  const std::filesystem::path db(s.path);
  if (db.has_parent_path()) {
    std::error_code ignored;  // a failure shows as the open's error just below
    std::filesystem::create_directories(db.parent_path(), ignored);
  }
  auto sqlite = std::make_unique<SqliteStore>(s.path, s.synchronous_full, error);
  if (!error.empty()) return false;
  out.description = "sqlite " + s.path + " (journal_mode=" + sqlite->journal_mode() +
                    ", synchronous=" + (sqlite->synchronous() == 2 ? "full" : "normal") + ")";
  out.store = std::move(sqlite);
  out.shared = false;
  return true;
}

std::unique_ptr<ChangeFeed> open_feed(const StoreConfig& c, ChangeFeed::Handlers handlers) {
  if (c.type != "redis") return nullptr;
  return std::make_unique<RedisFeed>(c.redis.endpoint, c.redis.prefix, std::move(handlers),
                                     c.redis.check_interval.count());
}

}  // namespace sg::registry
