// The registry store a router uses, one settings struct per store type. `type` picks which
// one applies; the others keep their defaults and are ignored.
#pragma once

#include <chrono>
#include <string>

#include "aws/dynamodb_client.h"
#include "registry/redis_connection.h"

namespace sg::registry {

struct SqliteConfig {
  std::string path = "var/sessiongate.db";
  bool synchronous_full = true;  // synchronous=FULL: on disk before acknowledged
  bool operator==(const SqliteConfig&) const = default;
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";
  RedisEndpoint endpoint;  // parsed url + credentials + timeouts
  std::string prefix = "sg:";
  std::chrono::milliseconds check_interval{1000};  // how often the feed compares versions
  bool operator==(const RedisConfig&) const = default;
};

// Attribute names in the platform's own DynamoDB tables (every one configurable: each
// platform's tables differ). sessiongate's own fields live in extra "sg_" attributes.
struct DynamoAttributes {
  std::string session_id = "threadId";            // sessions table partition key (S)
  std::string session_container = "containerId";  // sessions table: its container (S)
  std::string container_id = "containerId";       // containers table partition key (S)
  std::string container_address = "containerIp";  // "10.0.1.23" or "10.0.1.23:4321" (S)
  std::string container_port = "port";            // (N), default_port when absent
  std::string container_status = "status";        // (S), absent = ready
  std::string expires_at = "ttl";                 // the tables' TTL attribute (N, epoch s)
  bool operator==(const DynamoAttributes&) const = default;
};

struct DynamoConfig {
  aws::DynamoSettings client;  // region, endpoint, timeouts, retries, connections
  std::string endpoint_url;    // as configured ("" = the region's public endpoint)
  std::string profile;         // shared-files profile ("" = AWS_PROFILE or default)
  std::string sessions_table;
  std::string containers_table;
  DynamoAttributes attributes;
  uint16_t default_port = 4321;
  // Routes in use are read again this often (batched reads of just those items).
  std::chrono::milliseconds revalidate_interval{1000};
  // The whole tables are scanned this often, to find items created or deleted outside
  // sessiongate that no request has asked for yet.
  std::chrono::milliseconds scan_interval{30000};
  int scan_segments = 4;  // parallel Scan segments per table
  // A request for a session the route table does not have waits while that one item is read
  // (see session_lookup.h).
  bool lookup_unknown = true;
  std::chrono::milliseconds lookup_timeout{2000};
  std::chrono::milliseconds lookup_negative_ttl{2000};
  size_t lookup_max_pending = 1000;
  bool operator==(const DynamoConfig&) const = default;
};

struct StoreConfig {
  std::string type = "sqlite";  // sqlite | redis | dynamodb
  // The control plane's store calls (admin API, activity, sweeps, health probes): how many run
  // at once, and how many more may wait before the admin API answers 503 store_busy.
  size_t concurrency = 4;
  size_t queue_limit = 256;
  SqliteConfig sqlite;
  RedisConfig redis;
  DynamoConfig dynamodb;
  bool operator==(const StoreConfig&) const = default;
};

}  // namespace sg::registry
