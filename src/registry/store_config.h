// The registry store a router uses, one settings struct per store type. `type` picks which
// one applies; the others keep their defaults and are ignored.
#pragma once

#include <chrono>
#include <string>

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

struct StoreConfig {
  std::string type = "sqlite";  // sqlite | redis
  // The control plane's store calls (admin API, activity, sweeps, health probes): how many run
  // at once, and how many more may wait before the admin API answers 503 store_busy.
  size_t concurrency = 4;
  size_t queue_limit = 256;
  SqliteConfig sqlite;
  RedisConfig redis;
  bool operator==(const StoreConfig&) const = default;
};

}  // namespace sg::registry
