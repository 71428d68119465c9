// Redis-specific behaviour: URLs, authentication, failing fast while Redis is down, and
// recovery after a restart (reconnect, script cache gone).
#include "registry/redis_store.h"

#include <gtest/gtest.h>

#include <chrono>

#include "net/address.h"
#include "registry/redis_codec.h"
#include "registry/redis_connection.h"
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

TEST(RedisStoreDatabase, ANumberedDatabaseHoldsTheRegistry) {
  testing::RedisServer server;
  RedisEndpoint ep = server.endpoint();
  ep.db = 3;
  RedisStore store(ep, "sg:");
  Container c = ready_container("c1");
  ASSERT_FALSE(store.put_container(c));
  EXPECT_EQ(server.run({"EXISTS", "sg:c:c1"}), "0");  // not in database 0
  RedisConnection in3(ep, "");
  std::string err;
  ASSERT_TRUE(in3.connect(err)) << err;
  auto r = in3.command({"EXISTS", "sg:c:c1"}, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->integer, 1);
}

TEST(RedisStoreDatabase, ADatabaseTheServerDoesNotHaveIsAnError) {
  testing::RedisServer server;
  RedisEndpoint ep = server.endpoint();
  ep.db = 999;  // redis-server has 16 by default
  RedisConnection c(ep, "");
  std::string err;
  EXPECT_FALSE(c.connect(err));
  EXPECT_NE(err.find("SELECT 999 failed"), std::string::npos) << err;
  RedisStore store(ep, "sg:");
  EXPECT_FALSE(store.ping());
}

TEST(RedisConnectionTimeout, ACommandWithoutAReplyInTimeFailsAndDisconnects) {
  testing::RedisServer server;
  RedisEndpoint ep = server.endpoint();
  ep.command_timeout_ms = 200;
  RedisConnection c(ep, "");
  std::string err;
  ASSERT_TRUE(c.connect(err)) << err;
  ASSERT_EQ(server.run({"CLIENT", "PAUSE", "1500"}), "OK");  // the server stops answering
  EXPECT_FALSE(c.command({"GET", "x"}, err));
  EXPECT_EQ(err, "no reply within 200 ms");
  EXPECT_FALSE(c.command({"GET", "x"}, err));  // the connection was dropped, not reused
  EXPECT_EQ(err, "not connected");
}

TEST(RedisStoreCorruption, AVersionThatIsNotANumberIsAnError) {
  testing::RedisServer server;
  RedisStore store(server.endpoint(), "sg:");
  Container c = ready_container("c1");
  ASSERT_FALSE(store.put_container(c));
  ASSERT_EQ(server.run({"SET", "sg:version", "12abc"}), "OK");
  std::vector<Container> containers;
  std::vector<Session> sessions;
  uint64_t version = 0;
  StoreError e = store.load_all(containers, sessions, version);
  EXPECT_NE(e.message.find("sg:version: not a number: 12abc"), std::string::npos) << e.message;
}

TEST(RedisStoreCorruption, ARecordThatDoesNotDecodeIsReportedNotServed) {
  testing::RedisServer server;
  RedisStore store(server.endpoint(), "sg:");
  Container c = ready_container("c1");
  ASSERT_FALSE(store.put_container(c));
  ASSERT_EQ(server.run({"HSET", "sg:c:c1", "address", "not an address"}), "0");
  std::optional<Container> got;
  StoreError e = store.get_container("c1", got);
  EXPECT_EQ(e.message, "redis: container c1 is corrupt");
  EXPECT_FALSE(got);
}

}  // namespace
}  // namespace sg::registry
