// Redis-specific behaviour: URLs, authentication, failing fast while Redis is down, and
// recovery after a restart (reconnect, script cache gone).
#include "registry/redis_store.h"

#include <gtest/gtest.h>

#include <chrono>

#include "net/address.h"
#include "registry/redis_codec.h"
#include "support/redis_server.h"

namespace sg::registry {
namespace {

TEST(RedisUrl, Accepts) {
  struct Case {
    const char* url;
    const char* host;
    int port;
    int db;
    const char* user;
    const char* password;
  };
  for (const Case& c : {
           Case{"redis://127.0.0.1:6379/0", "127.0.0.1", 6379, 0, "", ""},
           Case{"redis://localhost", "localhost", 6379, 0, "", ""},
           Case{"redis://[::1]:7000/3", "::1", 7000, 3, "", ""},
           Case{"redis://:s3cret@10.0.0.5:6380", "10.0.0.5", 6380, 0, "", "s3cret"},
           Case{"redis://router:p%40ss@redis.internal:6379/2", "redis.internal", 6379, 2, "router",
                "p@ss"},
       }) {
    RedisEndpoint ep;
    std::string err;
    ASSERT_TRUE(parse_redis_url(c.url, ep, err)) << c.url << ": " << err;
    EXPECT_EQ(ep.host, c.host) << c.url;
    EXPECT_EQ(ep.port, c.port) << c.url;
    EXPECT_EQ(ep.db, c.db) << c.url;
    EXPECT_EQ(ep.username, c.user) << c.url;
    EXPECT_EQ(ep.password, c.password) << c.url;
  }
}

TEST(RedisUrl, RejectsWithAReason) {
  struct Case {
    const char* url;
    const char* reason;
  };
  for (const Case& c : {
           Case{"127.0.0.1:6379", "not a URL"},
           Case{"http://127.0.0.1", "scheme must be redis://"},
           Case{"rediss://127.0.0.1", "TLS is not supported"},
           Case{"redis://", "missing host"},
           Case{"redis://127.0.0.1:0", "port must be 1-65535"},
           Case{"redis://127.0.0.1:99999", "port must be 1-65535"},
           Case{"redis://127.0.0.1/x", "database must be a number"},
           Case{"redis://127.0.0.1/1/2", "database must be a number"},
           Case{"redis://127.0.0.1/0?timeout=1", "query and fragment"},
           Case{"redis://exa mple", "not a URL"},
       }) {
    RedisEndpoint ep;
    std::string err;
    EXPECT_FALSE(parse_redis_url(c.url, ep, err)) << c.url;
    EXPECT_NE(err.find(c.reason), std::string::npos) << c.url << " -> " << err;
  }
}

TEST(RedisCodec, RejectsMalformedChangeMessages) {
  std::string err;
  for (const char* m :
       {"", "[]", "{\"k\":\"s\",\"id\":\"a\"}", "{\"v\":\"0\",\"k\":\"sd\",\"id\":\"a\"}",
        "{\"v\":\"x\",\"k\":\"sd\",\"id\":\"a\"}", "{\"v\":\"1\",\"k\":\"zz\",\"id\":\"a\"}",
        "{\"v\":\"1\",\"k\":\"sd\",\"id\":\"a/b\"}",
        "{\"v\":\"1\",\"k\":\"s\",\"id\":\"a\",\"f\":{}}",
        "{\"v\":\"1\",\"k\":\"c\",\"id\":\"a\",\"f\":{\"address\":\"nope\"}}"}) {
    EXPECT_FALSE(decode_change(m, err).has_value()) << m;
  }
  auto ok = decode_change(R"({"v":"7","k":"sd","id":"abc"})", err);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->version, 7u);
  EXPECT_EQ(ok->kind, Change::Kind::kSessionDeleted);
}

TEST(RedisCodec, LabelIndexKeysCannotCollide) {
  // "a=b" + "c" and "a" + "b=c" must differ: both halves are hex-encoded.
  EXPECT_NE(label_index_suffix("a=b", "c"), label_index_suffix("a", "b=c"));
  EXPECT_EQ(label_index_suffix("k", " "), "6b=20");
}

Container ready_container(const std::string& id) {
  Container c;
  c.id = id;
  c.address_text = "10.1.2.3:4321";
  net::parse_endpoint(c.address_text, c.address);
  c.status = ContainerStatus::kReady;
  return c;
}

TEST(RedisStoreAuth, AclUserAndPassword) {
  testing::RedisServer server;
  ASSERT_EQ(server.run({"ACL", "SETUSER", "router", "on", ">p@ss word", "~*", "&*", "+@all"}),
            "OK");
  RedisEndpoint ep = server.endpoint();
  ep.username = "router";
  ep.password = "p@ss word";
  RedisStore good(ep, "sg:");
  Container c = ready_container("c1");
  EXPECT_FALSE(good.put_container(c));
  EXPECT_EQ(c.generation, 1u);

  ep.password = "wrong";
  RedisStore bad(ep, "sg:");
  Container d = ready_container("c2");
  auto e = bad.put_container(d);
  ASSERT_TRUE(e);
  EXPECT_NE(e.message.find("AUTH failed"), std::string::npos) << e.message;
  EXPECT_FALSE(bad.ping());
}

TEST(RedisStoreOutage, FailsFastThenRecoversAfterRestart) {
  testing::RedisServer server;
  RedisStore store(server.endpoint(), "sg:");
  Container c = ready_container("c1");
  ASSERT_FALSE(store.put_container(c));
  server.stop();
  // The first call finds the connection closed and the server refusing; later calls in the
  // backoff window fail at once instead of waiting out a timeout.
  Container d = ready_container("c2");
  auto e1 = store.put_container(d);
  ASSERT_TRUE(e1);
  EXPECT_NE(e1.message.find("redis unavailable"), std::string::npos) << e1.message;
  auto e2 = store.put_container(d);
  ASSERT_TRUE(e2);
  EXPECT_NE(e2.message.find("next attempt in"), std::string::npos) << e2.message;
  std::optional<Container> got;
  EXPECT_TRUE(store.get_container("c1", got));
  EXPECT_FALSE(store.ping());

  // Restarted without data (no persistence): scripts are gone from its cache too.
  server.start();
  StoreError e3{"not tried"};
  for (int i = 0; i < 60 && e3; ++i) {  // the backoff window is at most 5 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    e3 = store.put_container(d);
  }
  ASSERT_FALSE(e3) << "should reconnect and reload the script: " << e3.message;
  EXPECT_EQ(d.generation, 1u);
  EXPECT_TRUE(store.ping());
}

}  // namespace
}  // namespace sg::registry
