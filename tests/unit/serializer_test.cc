#include "http/serializer.h"

#include <gtest/gtest.h>

#include "http/parser.h"

namespace sg::http {
namespace {

TEST(Serializer, RequestDropsHopByHopAndSetsForwarding) {
  std::string in =
      "POST /p?q=1 HTTP/1.1\r\nHost: app.example.com\r\nConnection: keep-alive, X-Secret\r\n"
      "X-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Forwarded-For: 6.6.6.6\r\n"
      "Forwarded: for=6.6.6.6\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\n\r\n";
  RequestHead req;
  ASSERT_EQ(parse_request(in, {}, req).state, ParseState::kComplete);
  std::string out;
  ForwardInfo info;
  info.client_ip = "10.1.2.3";
  info.host = req.host;
  info.target = req.target;
  serialize_request(req, info, out);
  EXPECT_EQ(out,
            "POST /p?q=1 HTTP/1.1\r\nHost: app.example.com\r\nAccept: */*\r\n"
            "Forwarded: for=10.1.2.3;proto=http;host=\"app.example.com\"\r\n"
            "X-Forwarded-For: 10.1.2.3\r\nX-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(Serializer, FromATrustedProxyTheChainsAreExtendedAndProtoAndHostKept) {
  std::string in =
      "GET / HTTP/1.1\r\nHost: internal:8080\r\nX-Forwarded-For: 203.0.113.9\r\n"
      "X-Forwarded-For: 198.51.100.2\r\nX-Forwarded-Proto: https\r\n"
      "X-Forwarded-Host: app.example.com\r\nForwarded: for=203.0.113.9;proto=https\r\n\r\n";
  RequestHead req;
  ASSERT_EQ(parse_request(in, {}, req).state, ParseState::kComplete);
  ForwardInfo info;
  info.client_ip = "10.0.0.5";
  info.host = req.host;
  info.target = req.target;
  info.keep_forwarded = true;
  std::string out;
  serialize_request(req, info, out);
  EXPECT_EQ(
      out,
      "GET / HTTP/1.1\r\nHost: internal:8080\r\n"
      "Forwarded: for=203.0.113.9;proto=https, for=10.0.0.5;proto=http;host=\"internal:8080\"\r\n"
      "X-Forwarded-For: 203.0.113.9, 198.51.100.2, 10.0.0.5\r\n"
      "X-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.com\r\n\r\n");
  // The same request from an untrusted peer: everything it claimed is replaced.
  info.keep_forwarded = false;
  info.proto = "https";
  out.clear();
  serialize_request(req, info, out);
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\nHost: internal:8080\r\n"
            "Forwarded: for=10.0.0.5;proto=https;host=\"internal:8080\"\r\n"
            "X-Forwarded-For: 10.0.0.5\r\nX-Forwarded-Proto: https\r\n"
            "X-Forwarded-Host: internal:8080\r\n\r\n");
}

TEST(Serializer, FromATrustedProxyWithoutForwardingFieldsTheyStartWithThePeer) {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestHead req;
  ASSERT_EQ(parse_request(in, {}, req).state, ParseState::kComplete);
  ForwardInfo info;
  info.client_ip = "10.0.0.5";
  info.host = "a";
  info.target = req.target;
  info.keep_forwarded = true;
  std::string out;
  serialize_request(req, info, out);
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\nHost: a\r\nForwarded: for=10.0.0.5;proto=http;host=\"a\"\r\n"
            "X-Forwarded-For: 10.0.0.5\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: a\r\n\r\n");
}

TEST(Serializer, UpgradeKeepsUpgradeHeaders) {
  std::string in =
      "GET /?token=abc HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\nSec-WebSocket-Protocol: vite-hmr\r\n\r\n";
  RequestHead req;
  ASSERT_EQ(parse_request(in, {}, req).state, ParseState::kComplete);
  std::string out;
  ForwardInfo info;
  info.client_ip = "::1";
  info.client_ipv6 = true;
  info.host = "a";
  info.target = req.target;
  serialize_request(req, info, out);
  EXPECT_NE(out.find("GET /?token=abc HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(out.find("Sec-WebSocket-Protocol: vite-hmr\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: upgrade\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(out.find("Forwarded: for=\"[::1]\""), std::string::npos);
}

TEST(Serializer, ResponseReframes) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
  ResponseHead res;
  ASSERT_EQ(parse_response(in, {}, Method::kGet, res).state, ParseState::kComplete);
  std::string out;
  serialize_response(res, {Framing::kChunked, true, false, {}}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
  out.clear();
  serialize_response(res, {Framing::kUntilClose, false, true, {}}, out);
  EXPECT_EQ(out, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
}

// Lines received exactly as "Name: value" are copied whole; any other spacing is rewritten to
// that form, and a head built by hand (not parsed) is written field by field.
TEST(Serializer, FieldLinesComeOutCanonicalWhateverTheirSpacing) {
  std::string in =
      "HTTP/1.1 200 OK\r\nA: one\r\nB:two\r\nC:\t three \t\r\nD: \r\nE:\r\n"
      "F:  six\r\nContent-Length: 0\r\n\r\n";
  ResponseHead res;
  ASSERT_EQ(parse_response(in, {}, Method::kGet, res).state, ParseState::kComplete);
  EXPECT_TRUE(res.headers[0].canonical_line);   // A
  EXPECT_FALSE(res.headers[1].canonical_line);  // B: no space
  EXPECT_FALSE(res.headers[2].canonical_line);  // C: tab and trailing whitespace
  EXPECT_TRUE(res.headers[3].canonical_line);   // D: empty value after one space
  EXPECT_FALSE(res.headers[5].canonical_line);  // F: two spaces
  std::string out;
  serialize_response(res, {Framing::kNone, true, false, {}}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nA: one\r\nB: two\r\nC: three\r\nD: \r\nE: \r\nF: six\r\n"
            "Content-Length: 0\r\n\r\n");
  ResponseHead built;
  built.status = 204;
  built.reason = "No Content";
  built.headers.emplace_back("X-Built", "by hand");
  out.clear();
  serialize_response(built, {Framing::kNone, true, false, {}}, out);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nX-Built: by hand\r\n\r\n");
}

TEST(Serializer, ConsumedCredentialsAreNotForwarded) {
  std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Sessiongate-Token: v1.x\r\nAuthorization: Bearer v1.y\r\n"
      "Cookie: a=1; sg_access_t=v1.z; b=2\r\n\r\n";
  RequestHead req;
  ASSERT_EQ(parse_request(in, {}, req).state, ParseState::kComplete);
  ForwardInfo info;
  info.client_ip = "10.0.0.1";
  info.host = "a";
  info.target = "/";
  info.strip_token_header = true;
  info.strip_authorization = true;
  info.replace_cookie = true;
  info.cookie = "a=1; b=2";
  std::string out;
  serialize_request(req, info, out);
  EXPECT_EQ(out.find("v1."), std::string::npos) << out;
  EXPECT_NE(out.find("Cookie: a=1; b=2\r\n"), std::string::npos) << out;
}

// The worker's session header is the router's alone; Accept-Encoding goes only when the router
// needs the page uncompressed.
TEST(Serializer, SessionHeaderNeverForwardedAcceptEncodingOnRequest) {
  const std::string in =
      "GET /src/a.css HTTP/1.1\r\nHost: a\r\nX-Sessiongate-Session: t1\r\n"
      "Accept-Encoding: gzip, br\r\n\r\n";
  RequestHead req;
  ASSERT_EQ(parse_request(in, {}, req).state, ParseState::kComplete);
  ForwardInfo info;
  info.client_ip = "10.0.0.1";
  info.host = "a";
  info.target = "/src/a.css";
  std::string out;
  serialize_request(req, info, out);
  EXPECT_EQ(out.find("essiongate-Session"), std::string::npos) << out;
  EXPECT_NE(out.find("Accept-Encoding: gzip, br\r\n"), std::string::npos) << out;
  info.identity_only = true;
  out.clear();
  serialize_request(req, info, out);
  EXPECT_EQ(out.find("Accept-Encoding"), std::string::npos) << out;
}

}  // namespace
}  // namespace sg::http
