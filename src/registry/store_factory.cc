#include "registry/store_factory.h"

#include <filesystem>

#include "aws/credentials.h"
#include "registry/dynamo_feed.h"
#include "registry/dynamo_store.h"
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
  if (c.type == "dynamodb") {
    const DynamoConfig& d = c.dynamodb;
    std::shared_ptr<SSL_CTX> tls;
    if (d.client.endpoint.tls) {
      tls = aws::make_client_tls(d.client.endpoint.ca_file, error);
      if (!tls) return false;
    }
    auto credentials = std::make_shared<aws::CredentialChain>(d.profile);
    aws::DynamoSettings settings = d.client;
    // The store pool's calls, and the feed's scans (segments of both tables at once).
    settings.connections =
        c.concurrency + 2 * static_cast<size_t>(d.scan_segments) + DynamoStore::kActivityLanes;
    auto client = std::make_shared<aws::DynamoClient>(settings, credentials, tls);
    out.store = std::make_unique<DynamoStore>(d, client);
    out.shared = true;
    out.description = "dynamodb " + std::string(d.client.endpoint.tls ? "https://" : "http://") +
                      d.client.endpoint.authority() + " region " + d.client.region + " tables " +
                      d.sessions_table + ", " + d.containers_table;
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

std::unique_ptr<ChangeFeed> open_feed(const StoreConfig& c, Store& store,
                                      ChangeFeed::Handlers handlers) {
  if (c.type == "dynamodb") {
    return std::make_unique<DynamoFeed>(static_cast<DynamoStore&>(store), std::move(handlers));
  }
  if (c.type != "redis") return nullptr;
  return std::make_unique<RedisFeed>(c.redis.endpoint, c.redis.prefix, std::move(handlers),
                                     c.redis.check_interval.count());
}

}  // namespace sg::registry
