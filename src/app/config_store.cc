// store: which registry store, and the settings of that type.
#include "app/config_reader.h"

#include <cstdlib>

namespace sg::app {

void read_store(Reader& r, const YAML::Node& st, Config& cfg) {
  if (r.mapping(
          st, "store",
          {"type", "path", "synchronous", "url", "prefix", "username", "password", "password_env",
           "connect_timeout", "command_timeout", "check_interval", "concurrency", "queue_limit"})) {
    if (st["type"] && r.scalar(st["type"], "type", cfg.store.type) && cfg.store.type != "sqlite" &&
        cfg.store.type != "redis") {
      r.error(st["type"],
              "store.type '" + cfg.store.type + "' is not available (known: sqlite, redis)");
    }
    const bool redis = cfg.store.type == "redis";
    r.size(st, "concurrency", "store", cfg.store.concurrency, 1, 64);
    r.size(st, "queue_limit", "store", cfg.store.queue_limit, 0, 100000);
    for (const char* k : {"path", "synchronous"}) {
      if (st[k] && redis) r.error(st[k], std::string("store.") + k + " applies to type sqlite");
    }
    for (const char* k : {"url", "prefix", "username", "password", "password_env",
                          "connect_timeout", "command_timeout", "check_interval"}) {
      if (st[k] && !redis) r.error(st[k], std::string("store.") + k + " applies to type redis");
    }
    if (st["path"]) r.scalar(st["path"], "path", cfg.store.sqlite.path);
    if (st["synchronous"]) {
      std::string v;
      r.scalar(st["synchronous"], "synchronous", v);
      if (v == "full") {
        cfg.store.sqlite.synchronous_full = true;
      } else if (v == "normal") {
        cfg.store.sqlite.synchronous_full = false;
      } else {
        r.error(st["synchronous"], "store.synchronous must be full or normal");
      }
    }
    if (redis) {
      registry::RedisEndpoint& ep = cfg.store.redis.endpoint;
      std::string why;
      if (st["url"]) r.scalar(st["url"], "url", cfg.store.redis.url);
      if (!registry::parse_redis_url(cfg.store.redis.url, ep, why)) {
        r.error(st["url"] ? st["url"] : st, "store.url: " + why);
      }
      if (st["prefix"] && r.scalar(st["prefix"], "prefix", cfg.store.redis.prefix)) {
        const auto& pf = cfg.store.redis.prefix;
        const bool ok =
            !pf.empty() && pf.size() <= 64 &&
            std::all_of(pf.begin(), pf.end(), [](char ch) { return ch > ' ' && ch < 127; });
        if (!ok) r.error(st["prefix"], "store.prefix must be 1-64 printable characters, no spaces");
      }
      if (st["username"]) r.scalar(st["username"], "username", ep.username);
      if (st["password"] && st["password_env"]) {
        r.error(st["password_env"], "store: set password or password_env, not both");
      }
      if (st["password"]) r.scalar(st["password"], "password", ep.password);
      if (st["password_env"]) {
        std::string name;
        if (r.scalar(st["password_env"], "password_env", name)) {
          const char* v = std::getenv(name.c_str());
          if (v == nullptr || *v == '\0') {
            r.error(st["password_env"],
                    "store.password_env: environment variable " + name + " is not set");
          } else {
            ep.password = v;
          }
        }
      }
      if (!ep.username.empty() && ep.password.empty()) {
        r.error(st["username"] ? st["username"] : st,
                "store: a Redis ACL user needs a password (password, password_env or the url)");
      }
      Millis connect{ep.connect_timeout_ms}, command{ep.command_timeout_ms};
      r.duration(st, "connect_timeout", "store", connect, Millis(60'000));
      r.duration(st, "command_timeout", "store", command, Millis(60'000));
      r.duration(st, "check_interval", "store", cfg.store.redis.check_interval, Millis(3'600'000));
      ep.connect_timeout_ms = connect.count();
      ep.command_timeout_ms = command.count();
    }
  }
}

}  // namespace sg::app
