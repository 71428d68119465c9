#include "http/parser.h"

#include "http/chars.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace sg::http {
namespace {

ParseResult parse(const std::string& s, RequestHead& req, ParseLimits lim = {}) {
  return parse_request(s, lim, req);
}

TEST(RequestParser, SimpleGet) {
  RequestHead req;
  std::string in = "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  auto r = parse(in, req);
  ASSERT_EQ(r.state, ParseState::kComplete);
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/a/b");
  EXPECT_EQ(req.query, "x=1");
  EXPECT_EQ(req.host, "example.com");
  EXPECT_EQ(req.framing, Framing::kNone);
  EXPECT_TRUE(req.keep_alive);
  EXPECT_EQ(req.header("accept"), "*/*");
}

TEST(RequestParser, IncompleteUntilBlankLine) {
  RequestHead req;
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(parse(in.substr(0, i), req).state, ParseState::kIncomplete) << i;
  }
  EXPECT_EQ(parse(in, req).state, ParseState::kComplete);
}

TEST(RequestParser, BodyFraming) {
  RequestHead req;
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", req).state,
            ParseState::kComplete);
  EXPECT_EQ(req.framing, Framing::kLength);
  EXPECT_EQ(req.content_length, 12u);
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", req).state,
            ParseState::kComplete);
  EXPECT_EQ(req.framing, Framing::kChunked);
  ASSERT_EQ(
      parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", req)
          .state,
      ParseState::kComplete);
  EXPECT_EQ(req.content_length, 3u);
}

TEST(RequestParser, ConnectionSemantics) {
  RequestHead req;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", req).state, ParseState::kComplete);
  EXPECT_FALSE(req.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", req).state,
            ParseState::kComplete);
  EXPECT_TRUE(req.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", req).state,
            ParseState::kComplete);
  EXPECT_FALSE(req.keep_alive);
  ASSERT_EQ(parse("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
                  "Upgrade: websocket\r\n\r\n",
                  req)
                .state,
            ParseState::kComplete);
  EXPECT_TRUE(req.upgrade);
}

TEST(RequestParser, AbsoluteFormTakesAuthorityAsHost) {
  RequestHead req;
  // Views point into the input: it must outlive the head.
  const std::string in = "GET http://b.example.com:81/p?q HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(parse(in, req).state, ParseState::kComplete);
  EXPECT_EQ(req.host, "b.example.com:81");
  EXPECT_EQ(req.target, "/p?q");
}

struct Bad {
  const char* name;
  std::string input;
  int status;
};

class RequestParserRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(RequestParserRejects, WithStatus) {
  RequestHead req;
  auto r = parse(GetParam().input, req);
  ASSERT_EQ(r.state, ParseState::kError) << GetParam().name;
  EXPECT_EQ(r.error.status, GetParam().status) << GetParam().name << ": " << r.error.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestParserRejects,
    ::testing::Values(
        Bad{"cl_te",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400},
        Bad{"cl_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400},
        Bad{"cl_list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n", 400},
        Bad{"cl_sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400},
        Bad{"cl_huge", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
            400},
        Bad{"te_xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
            400},
        Bad{"te_quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
            400},
        Bad{"te_vtab",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b"
            "chunked\r\n\r\n",
            400},
        Bad{"te_chunked_twice",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400},
        Bad{"te_not_last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            400},
        Bad{"te_gzip_chunked",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        Bad{"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Bad{"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        Bad{"space_in_name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n", 400},
        Bad{"underscore_name", "GET / HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: z\r\n\r\n", 400},
        Bad{"obs_fold", "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", 400},
        Bad{"nul_in_value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35), 400},
        Bad{"bare_lf_header", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400},
        Bad{"bare_cr_header", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400},
        Bad{"bare_lf_line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
        Bad{"missing_host", "GET / HTTP/1.1\r\n\r\n", 400},
        Bad{"duplicate_host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        Bad{"bad_host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        Bad{"host_userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
        Bad{"http09", "GET /\r\n\r\n", 400}, Bad{"http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        Bad{"lowercase_version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
        Bad{"bad_method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Bad{"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501},
        Bad{"double_space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Bad{"relative_target", "GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Bad{"fragment", "GET /#x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Bad{"expect_other", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417},
        Bad{"bad_connection", "GET / HTTP/1.1\r\nHost: a\r\nConnection: \"close\"\r\n\r\n", 400},
        Bad{"long_line", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
        Bad{"long_line_incomplete", "GET /" + std::string(9000, 'a'), 414},
        Bad{"big_headers",
            "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(40000, 'a') + "\r\n\r\n", 431},
        Bad{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400}),
    [](const ::testing::TestParamInfo<Bad>& info) { return std::string(info.param.name); });

TEST(RequestParser, TooManyFields) {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 101; ++i) in += "X-" + std::to_string(i) + ": v\r\n";
  in += "\r\n";
  RequestHead req;
  auto r = parse(in, req);
  ASSERT_EQ(r.state, ParseState::kError);
  EXPECT_EQ(r.error.status, 431);
}

TEST(ResponseParser, Framing) {
  ResponseHead res;
  ParseLimits lim;
  ASSERT_EQ(
      parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", lim, Method::kGet, res).state,
      ParseState::kComplete);
  EXPECT_EQ(res.framing, Framing::kLength);
  ASSERT_EQ(
      parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", lim, Method::kHead, res).state,
      ParseState::kComplete);
  EXPECT_EQ(res.framing, Framing::kNone);
  ASSERT_EQ(parse_response("HTTP/1.1 204 No Content\r\n\r\n", lim, Method::kGet, res).state,
            ParseState::kComplete);
  EXPECT_EQ(res.framing, Framing::kNone);
  ASSERT_EQ(parse_response("HTTP/1.1 200 OK\r\n\r\n", lim, Method::kGet, res).state,
            ParseState::kComplete);
  EXPECT_EQ(res.framing, Framing::kUntilClose);
  EXPECT_FALSE(res.keep_alive);
  ASSERT_EQ(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", lim,
                           Method::kGet, res)
                .state,
            ParseState::kComplete);
  EXPECT_EQ(res.framing, Framing::kChunked);
  ASSERT_EQ(
      parse_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", lim, Method::kGet, res).state,
      ParseState::kComplete);
  EXPECT_EQ(res.status, 200);
}

TEST(ResponseParser, RejectsSmuggling) {
  ResponseHead res;
  ParseLimits lim;
  auto r =
      parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                     lim, Method::kGet, res);
  ASSERT_EQ(r.state, ParseState::kError);
  EXPECT_EQ(r.error.status, 502);
  r = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", lim,
                     Method::kGet, res);
  EXPECT_EQ(r.state, ParseState::kError);
  r = parse_response("HTTP/1.1 2000 OK\r\n\r\n", lim, Method::kGet, res);
  EXPECT_EQ(r.state, ParseState::kError);
  r = parse_response("SSH-2.0-OpenSSH\r\n", lim, Method::kGet, res);
  EXPECT_EQ(r.state, ParseState::kError);
}

// Every fast scanner agrees with its byte-at-a-time definition for every octet at every offset
// (inside and past the 16-byte steps, and in the unrolled name loop's tail).
TEST(CharScans, AgreeWithTheirDefinitionsForEveryOctetAndOffset) {
  for (int bad = 0; bad < 256; ++bad) {
    for (size_t at = 0; at < 48; ++at) {
      std::string s(48, 'a');
      s[at] = static_cast<char>(bad);
      const char c = s[at];
      const size_t name = chars::kNameChar[static_cast<uint8_t>(c)] ? s.size() : at;
      ASSERT_EQ(chars::scan_name(s, 0), name) << "octet " << bad << " at " << at;
      const size_t target = (c > 0x20 && c < 0x7f) ? s.size() : at;
      ASSERT_EQ(chars::scan_target(s, 0), target) << "octet " << bad << " at " << at;
      const size_t value = chars::is_field_char(c) ? s.size() : at;
      ASSERT_EQ(chars::scan_field_value(s, 0), value) << "octet " << bad << " at " << at;
      ASSERT_EQ(chars::scan_field_value(s, at), value) << "octet " << bad << " from " << at;
      const size_t eol = (c == '\r' || c == '\n') ? at : s.size();
      ASSERT_EQ(chars::find_cr_or_lf(s, 0, s.size()), eol) << "octet " << bad << " at " << at;
      ASSERT_EQ(chars::find_cr_or_lf(s, 0, at), at) << "limit " << at;  // never past the limit
    }
  }
}

TEST(ClassifyField, EveryKnownNameInAnyCaseAndNearMissesAreOther) {
  const std::pair<std::string, Field> known[] = {
      {"host", Field::kHost},
      {"content-length", Field::kContentLength},
      {"transfer-encoding", Field::kTransferEncoding},
      {"connection", Field::kConnection},
      {"keep-alive", Field::kKeepAlive},
      {"proxy-connection", Field::kProxyConnection},
      {"te", Field::kTe},
      {"upgrade", Field::kUpgrade},
      {"trailer", Field::kTrailer},
      {"proxy-authorization", Field::kProxyAuthorization},
      {"proxy-authenticate", Field::kProxyAuthenticate},
      {"expect", Field::kExpect},
      {"forwarded", Field::kForwarded},
      {"x-forwarded-for", Field::kXForwardedFor},
      {"x-forwarded-proto", Field::kXForwardedProto},
      {"x-forwarded-host", Field::kXForwardedHost},
      {"cookie", Field::kCookie},
      {"authorization", Field::kAuthorization},
      {"accept", Field::kAccept},
      {"referer", Field::kReferer},
      {"user-agent", Field::kUserAgent},
      {"x-sessiongate-token", Field::kXSessiongateToken},
      {"sec-websocket-key", Field::kSecWebSocketKey},
      {"sec-websocket-accept", Field::kSecWebSocketAccept},
      {"x-sessiongate-wait", Field::kXSessiongateWait},
      {"x-request-id", Field::kXRequestId},
      {"traceparent", Field::kTraceparent},
      {"tracestate", Field::kTracestate},
      {"x-sessiongate-session", Field::kXSessiongateSession},
      {"accept-encoding", Field::kAcceptEncoding},
  };
  for (const auto& [name, id] : known) {
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string mixed = name;
    mixed[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[0])));
    EXPECT_EQ(classify_field(name), id) << name;
    EXPECT_EQ(classify_field(upper), id) << upper;
    EXPECT_EQ(classify_field(mixed), id) << mixed;
    std::string near = name;
    near.back() = near.back() == 'x' ? 'y' : 'x';
    EXPECT_EQ(classify_field(near), Field::kOther) << near;
    EXPECT_EQ(classify_field(name + "s"), Field::kOther) << name << "s";
  }
  EXPECT_EQ(classify_field(""), Field::kOther);
}

// The parser records which fields it saw; lookups by id agree with lookups by name.
TEST(ClassifyField, ParsedHeadsKnowTheirFields) {
  RequestHead req;
  const std::string raw =
      "GET / HTTP/1.1\r\nHOST: a.test\r\nX-Other: 1\r\nUser-Agent: t\r\nCookie: a=1\r\n\r\n";
  ASSERT_EQ(parse_request(raw, ParseLimits{}, req).state, ParseState::kComplete);
  EXPECT_EQ(req.fields,
            bit(Field::kHost) | bit(Field::kOther) | bit(Field::kUserAgent) | bit(Field::kCookie));
  EXPECT_EQ(req.header(Field::kUserAgent), "t");
  EXPECT_EQ(req.header(Field::kCookie), req.header("cookie"));
  EXPECT_EQ(req.header(Field::kReferer), "");
}

}  // namespace
}  // namespace sg::http
