// The one table of local answers: each kind's status, outcome and page, and the HTTP/1.1 bytes
// a reply value becomes.
#include "proxy/reply.h"

#include <gtest/gtest.h>

#include <set>

namespace sg::proxy {
namespace {

using observe::Outcome;

TEST(ReplyTable, EveryKindHasAStatusAnOutcomeAndACode) {
  std::set<std::string_view> codes;
  for (size_t i = 0; i < static_cast<size_t>(ReplyKind::kCount); ++i) {
    const ReplySpec& s = spec(static_cast<ReplyKind>(i));
    const bool configured = static_cast<ReplyKind>(i) == ReplyKind::kFixed ||
                            static_cast<ReplyKind>(i) == ReplyKind::kRedirect;
    if (configured) {
      EXPECT_EQ(s.status, 0) << i;
    } else if (static_cast<ReplyKind>(i) == ReplyKind::kWaitState ||
               static_cast<ReplyKind>(i) == ReplyKind::kWorkerScript) {
      EXPECT_EQ(s.status, 200) << "the long poll, a script: answers, not errors";
    } else {
      EXPECT_GE(s.status, 300) << i;
      EXPECT_LT(s.status, 600) << i;
      EXPECT_FALSE(s.title.empty()) << i;
    }
    EXPECT_FALSE(s.code.empty()) << i;
    EXPECT_FALSE(s.message.empty()) << i;
    codes.insert(s.code);
  }
  EXPECT_EQ(codes.size(), static_cast<size_t>(ReplyKind::kCount) - 1);  // "redirect" twice
}

TEST(ReplyTable, StatusesAndOutcomesOfTheAnswersClientsSee) {
  struct Row {
    ReplyKind kind;
    int status;
    Outcome outcome;
    bool close;
  };
  const Row rows[] = {
      {ReplyKind::kBadRequest, 400, Outcome::k_bad_request, true},
      {ReplyKind::kHeadersTooLarge, 431, Outcome::k_bad_request, true},
      {ReplyKind::kNoRule, 404, Outcome::k_no_rule, false},
      {ReplyKind::kUnknownSession, 404, Outcome::k_unknown_session, false},
      {ReplyKind::kContainerStarting, 503, Outcome::k_starting, false},
      {ReplyKind::kContainerDown, 503, Outcome::k_unavailable, false},
      {ReplyKind::kWakeFailed, 503, Outcome::k_wake_failed, false},
      {ReplyKind::kHoldFull, 503, Outcome::k_rate_limited, false},
      {ReplyKind::kUpstreamRefused, 502, Outcome::k_upstream_refused, true},
      {ReplyKind::kUpstreamForbidden, 502, Outcome::k_upstream_refused, true},
      {ReplyKind::kUpstreamTimeout, 504, Outcome::k_upstream_timeout, true},
      {ReplyKind::kUpstreamBroken, 502, Outcome::k_upstream_invalid, true},
      {ReplyKind::kRateLimited, 429, Outcome::k_rate_limited, false},
      {ReplyKind::kTooManyConnections, 429, Outcome::k_rate_limited, true},
      {ReplyKind::kOverloaded, 503, Outcome::k_rate_limited, true},
      {ReplyKind::kForbidden, 403, Outcome::k_forbidden, false},
      {ReplyKind::kLinkRedirect, 302, Outcome::k_redirect, false},
      {ReplyKind::kWorkerScript, 200, Outcome::k_fixed, false},
      {ReplyKind::kWorkerFileMissing, 404, Outcome::k_no_rule, false},
  };
  for (const Row& r : rows) {
    Reply reply = make_reply(r.kind, {});
    EXPECT_EQ(reply.status, r.status) << spec(r.kind).code;
    EXPECT_EQ(reply.outcome, r.outcome) << spec(r.kind).code;
    EXPECT_EQ(reply.close, r.close) << spec(r.kind).code;
  }
  // Every status the parser can choose, and what becomes of one it never does.
  const std::pair<int, ReplyKind> parse[] = {
      {400, ReplyKind::kBadRequest},        {408, ReplyKind::kRequestTimeout},
      {413, ReplyKind::kBodyTooLarge},      {414, ReplyKind::kUriTooLong},
      {417, ReplyKind::kExpectationFailed}, {431, ReplyKind::kHeadersTooLarge},
      {501, ReplyKind::kNotImplemented},    {505, ReplyKind::kVersionNotSupported},
      {599, ReplyKind::kBadRequest},
  };
  for (const auto& [status, kind] : parse) {
    EXPECT_EQ(reply_for_parse_status(status), kind) << status;
    if (status != 599) {
      EXPECT_EQ(spec(kind).status, status);
    }
  }
}

TEST(MakeReply, StartingTellsWhenToRetryAndRefreshesItsPage) {
  ReplyInput in;
  in.html = true;
  in.session = "s1";
  in.starting_retry_after = 3;
  Reply r = make_reply(ReplyKind::kContainerStarting, in);
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0],
            (std::pair<std::string_view, std::string>{"Content-Type", "text/html; charset=utf-8"}));
  EXPECT_EQ(r.headers[1].first, "Cache-Control");
  EXPECT_EQ(r.headers[2], (std::pair<std::string_view, std::string>{"Retry-After", "3"}));
  EXPECT_NE(r.body.find("<meta http-equiv=\"refresh\" content=\"3\">"), std::string::npos);
  EXPECT_NE(r.body.find("<code>s1</code>"), std::string::npos);
}

// The worker's script may control the session's whole prefix and is revalidated on every
// check; the unknown-session answer tells a worker (header) and a page (script) to let go.
TEST(MakeReply, SessionWorkerScriptAndTheUnknownSessionsFarewell) {
  ReplyInput in;
  in.body = "self.x=1;";
  in.worker_scope = "/session/t1/";
  const Reply js = make_reply(ReplyKind::kWorkerScript, in);
  const std::vector<std::pair<std::string_view, std::string>> want = {
      {"Content-Type", "text/javascript; charset=utf-8"},
      {"Cache-Control", "no-cache"},
      {"Service-Worker-Allowed", "/session/t1/"},
      {"X-Content-Type-Options", "nosniff"}};
  EXPECT_EQ(js.headers, want);
  EXPECT_EQ(js.body, "self.x=1;");
  ReplyInput page;
  page.html = true;
  page.session = "t1";
  const Reply gone = make_reply(ReplyKind::kUnknownSession, page);
  bool header = false;
  for (const auto& [name, value] : gone.headers) {
    header |= name == "X-Sessiongate-Error" && value == "unknown_session";
  }
  EXPECT_TRUE(header);
  EXPECT_NE(gone.body.find("__sessiongate/sw.js'"), std::string::npos) << gone.body;
  EXPECT_NE(gone.body.find("r.unregister()"), std::string::npos);
  const Reply other = make_reply(ReplyKind::kNoRule, page);
  EXPECT_EQ(other.body.find("unregister"), std::string::npos) << "only the unknown session's";
}

size_t count(const std::string& s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Regressions: the JSON starting answer said "This page reloads by itself", and the HTML page
// said it twice.
TEST(MakeReply, RegressionTheStartingPageSaysItReloadsOnceAndOnlyInHtml) {
  ReplyInput in;
  in.session = "s1";
  in.state = "waiting";
  in.detail = "Waiting for the preview's container to register.";
  Reply json = make_reply(ReplyKind::kContainerStarting, in);
  EXPECT_EQ(json.body.find("reload"), std::string::npos) << json.body;
  EXPECT_NE(json.body.find("\"state\":\"waiting\",\"retry_after_ms\":2000"), std::string::npos)
      << json.body;
  in.html = true;
  Reply html = make_reply(ReplyKind::kContainerStarting, in);
  EXPECT_EQ(count(html.body, "reloads by itself"), 1u) << html.body;
  EXPECT_EQ(html.body.find("<code>waiting</code>"), std::string::npos) << "no codes as prose";
}

// A server that may be back soon: Retry-After, and a link (never an automatic reload, which
// would loop for good on one that stays down).
TEST(MakeReply, PagesOfServersThatMayComeBackOfferATryAgain) {
  for (ReplyKind k : {ReplyKind::kContainerDown, ReplyKind::kUpstreamRefused,
                      ReplyKind::kUpstreamTimeout, ReplyKind::kUpstreamBroken}) {
    ReplyInput in;
    in.html = true;
    in.state = "lease_expired";
    in.detail = "Its container stopped sending heartbeats (its lease ran out).";
    Reply r = make_reply(k, in);
    bool retry = false;
    for (const auto& [name, value] : r.headers) retry |= name == "Retry-After" && value == "2";
    EXPECT_TRUE(retry) << r.status;
    EXPECT_NE(r.body.find("<a href=\"\">Try again</a>"), std::string::npos) << r.status;
    EXPECT_EQ(r.body.find("http-equiv=\"refresh\""), std::string::npos) << r.status;
    EXPECT_NE(r.body.find("<p>Its container stopped sending heartbeats"), std::string::npos);
    in.html = false;
    Reply j = make_reply(k, in);
    EXPECT_NE(j.body.find("\"retry_after_ms\":2000"), std::string::npos) << j.body;
  }
}

TEST(MakeReply, AnswersMadeAtAcceptAreAlwaysJson) {
  ReplyInput in;
  in.html = true;
  Reply r = make_reply(ReplyKind::kTooManyConnections, in);
  EXPECT_EQ(r.headers[0].second, "application/json");
  EXPECT_EQ(r.body.rfind("{\"status\":429,\"error\":\"too_many_connections\"", 0), 0u) << r.body;
}

TEST(MakeReply, LinkRedirectCarriesLocationThenCookie) {
  ReplyInput in;
  in.location = "/page?x=1";
  in.set_cookie = "sg_access_s=t; Path=/; HttpOnly; SameSite=Lax";
  Reply r = make_reply(ReplyKind::kLinkRedirect, in);
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[2].first, "Location");
  EXPECT_EQ(r.headers[2].second, "/page?x=1");
  EXPECT_EQ(r.headers[3].first, "Set-Cookie");
  EXPECT_NE(r.body.find("\"detail\":\"/page?x=1\""), std::string::npos) << r.body;
}

TEST(MakeReply, FixedActionsUseTheRuleStatusAPageOrALiteralBody) {
  ReplyInput in;
  in.status = 410;
  in.page = "gone";
  in.html = true;
  const std::unordered_map<std::string, std::string> templates{
      {"gone", "<p>{{status}} {{title}}</p>"}};
  in.templates = &templates;
  Reply page = make_reply(ReplyKind::kFixed, in);
  EXPECT_EQ(page.status, 410);
  EXPECT_EQ(page.outcome, Outcome::k_fixed);
  EXPECT_EQ(page.body, "<p>410 Gone</p>");
  in = {};
  in.status = 404;
  in.page = "edit-help";
  Reply help = make_reply(ReplyKind::kFixed, in);
  EXPECT_NE(help.body.find("This is the editor address."), std::string::npos) << help.body;
  in = {};
  in.status = 200;
  in.body = "User-agent: *\n";
  in.content_type = "text/plain";
  Reply literal = make_reply(ReplyKind::kFixed, in);
  ASSERT_EQ(literal.headers.size(), 1u);
  EXPECT_EQ(literal.headers[0].second, "text/plain");
  EXPECT_EQ(literal.body, "User-agent: *\n");
}

TEST(AppendHttp1, HeadersInOrderLengthAlwaysBodyUnlessHead) {
  ReplyInput in;
  in.status = 308;
  in.location = "https://new.example.com/";
  Reply r = make_reply(ReplyKind::kRedirect, in);
  std::string out;
  append_http1(r, false, false, out);
  const std::string head =
      "HTTP/1.1 308 Permanent Redirect\r\nContent-Type: application/json\r\n"
      "Cache-Control: no-store\r\nContent-Length: " +
      std::to_string(r.body.size()) + "\r\nLocation: https://new.example.com/\r\n\r\n";
  EXPECT_EQ(out, head + r.body);
  std::string head_only;
  append_http1(r, true, true, head_only);
  EXPECT_EQ(head_only, head.substr(0, head.size() - 2) + "Connection: close\r\n\r\n");
}

TEST(AppendHttp1, AReplyThatMustCloseSaysSoWhateverTheRequestAsked) {
  Reply r = make_reply(ReplyKind::kUpstreamRefused, {});
  std::string out;
  append_http1(r, false, false, out);
  EXPECT_NE(out.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace sg::proxy
