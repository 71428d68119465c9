#include "http/h2_request.h"

#include <gtest/gtest.h>

#include "http/parser.h"

namespace sg::http {
namespace {

H2RequestHead with(std::initializer_list<std::pair<std::string_view, std::string_view>> fields,
                   H2HeadLimits limits = {}) {
  H2RequestHead h(limits);
  for (const auto& [n, v] : fields) h.add(n, v);
  return h;
}

TEST(H2RequestHead, WritesTheHttp11HeadTheParserAccepts) {
  H2RequestHead h = with({{":method", "GET"},
                          {":scheme", "https"},
                          {":authority", "t.preview.example.com"},
                          {":path", "/a?b=1"},
                          {"accept", "text/html"}});
  std::string out;
  ASSERT_EQ(h.finish(false, "", out), H2HeadStatus::kOk);
  EXPECT_EQ(out, "GET /a?b=1 HTTP/1.1\r\nhost: t.preview.example.com\r\naccept: text/html\r\n\r\n");
  RequestHead req;
  ASSERT_EQ(parse_request(out, {}, req).state, ParseState::kComplete);
  EXPECT_EQ(req.host, "t.preview.example.com");
  EXPECT_EQ(req.query, "b=1");
  EXPECT_EQ(req.framing, Framing::kNone);
}

TEST(H2RequestHead, CookieFieldsAreJoined) {
  H2RequestHead h = with({{":method", "GET"},
                          {":authority", "a"},
                          {":path", "/"},
                          {"cookie", "a=1"},
                          {"cookie", "b=2"}});
  std::string out;
  ASSERT_EQ(h.finish(false, "", out), H2HeadStatus::kOk);
  EXPECT_NE(out.find("cookie: a=1; b=2\r\n"), std::string::npos);
}

TEST(H2RequestHead, ABodyWithoutLengthIsChunked) {
  H2RequestHead open = with({{":method", "POST"}, {":authority", "a"}, {":path", "/"}});
  std::string out;
  ASSERT_EQ(open.finish(true, "", out), H2HeadStatus::kOk);
  EXPECT_TRUE(open.chunked());
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos);

  H2RequestHead sized =
      with({{":method", "POST"}, {":authority", "a"}, {":path", "/"}, {"content-length", "5"}});
  ASSERT_EQ(sized.finish(true, "", out), H2HeadStatus::kOk);
  EXPECT_FALSE(sized.chunked());
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos);

  H2RequestHead ended = with({{":method", "POST"}, {":authority", "a"}, {":path", "/"}});
  ASSERT_EQ(ended.finish(false, "", out), H2HeadStatus::kOk);
  EXPECT_FALSE(ended.chunked());
}

TEST(H2RequestHead, HostAgainstAuthority) {
  std::string out;
  H2RequestHead same =
      with({{":method", "GET"}, {":authority", "A.test"}, {":path", "/"}, {"host", "a.test"}});
  ASSERT_EQ(same.finish(false, "", out), H2HeadStatus::kOk);
  EXPECT_EQ(out.find("host: a.test"), std::string::npos);  // one Host line, from :authority
  H2RequestHead differs =
      with({{":method", "GET"}, {":authority", "a.test"}, {":path", "/"}, {"host", "b.test"}});
  EXPECT_EQ(differs.finish(false, "", out), H2HeadStatus::kBad);
  EXPECT_STREQ(differs.reason(), "Host does not match :authority");
  H2RequestHead host_only = with({{":method", "GET"}, {":path", "/"}, {"host", "b.test"}});
  ASSERT_EQ(host_only.finish(false, "", out), H2HeadStatus::kOk);
  EXPECT_NE(out.find("host: b.test\r\n"), std::string::npos);
  H2RequestHead neither = with({{":method", "GET"}, {":path", "/"}});
  EXPECT_EQ(neither.finish(false, "", out), H2HeadStatus::kBad);
  H2RequestHead two_hosts =
      with({{":method", "GET"}, {":path", "/"}, {"host", "a"}, {"host", "a"}});
  EXPECT_EQ(two_hosts.finish(false, "", out), H2HeadStatus::kBad);
}

TEST(H2RequestHead, ExtendedConnectForWebsocketBecomesAnUpgrade) {
  H2RequestHead h = with({{":method", "CONNECT"},
                          {":protocol", "websocket"},
                          {":scheme", "https"},
                          {":authority", "a.test"},
                          {":path", "/hmr"},
                          {"sec-websocket-version", "13"}});
  ASSERT_TRUE(h.wants_websocket());
  std::string out;
  ASSERT_EQ(h.finish(true, "dGhlIHNhbXBsZSBub25jZQ==", out), H2HeadStatus::kOk);
  EXPECT_TRUE(h.websocket());
  EXPECT_FALSE(h.chunked());
  RequestHead req;
  ASSERT_EQ(parse_request(out, {}, req).state, ParseState::kComplete);
  EXPECT_EQ(req.method, "GET");
  EXPECT_TRUE(req.upgrade);
  EXPECT_EQ(req.header(Field::kSecWebSocketKey), "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(H2RequestHead, ConnectWithoutWebsocketIsNotImplemented) {
  std::string out;
  H2RequestHead proxy = with({{":method", "CONNECT"}, {":authority", "example.com:443"}});
  EXPECT_EQ(proxy.finish(true, "", out), H2HeadStatus::kNotImplemented);
  H2RequestHead other =
      with({{":method", "CONNECT"}, {":protocol", "chat"}, {":authority", "a"}, {":path", "/"}});
  EXPECT_EQ(other.finish(true, "", out), H2HeadStatus::kNotImplemented);
  H2RequestHead stray =
      with({{":method", "GET"}, {":protocol", "websocket"}, {":authority", "a"}, {":path", "/"}});
  EXPECT_EQ(stray.finish(false, "", out), H2HeadStatus::kBad);
}

TEST(H2RequestHead, HeaderListLimitsAre431) {
  std::string out;
  H2RequestHead big = with({{":method", "GET"},
                            {":authority", "a"},
                            {":path", "/"},
                            {"x-big", std::string_view(std::string(200, 'v'))}},
                           {200, 100});
  EXPECT_EQ(big.finish(false, "", out), H2HeadStatus::kTooLarge);
  H2RequestHead many =
      with({{":method", "GET"}, {":authority", "a"}, {":path", "/"}, {"a", "1"}, {"b", "2"}},
           {32768, 4});
  EXPECT_EQ(many.finish(false, "", out), H2HeadStatus::kTooLarge);
  EXPECT_STREQ(many.reason(), "too many header fields");
}

}  // namespace
}  // namespace sg::http
