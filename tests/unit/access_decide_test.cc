// access::decide: who gets into a private preview, what is stripped before forwarding, and how a
// link in the URL becomes a cookie.
#include "access/decide.h"

#include <gtest/gtest.h>

#include "http/parser.h"

namespace sg::access {
namespace {

constexpr int64_t kNowMs = 1'800'000'000'000;
const std::string kSecret = "k1-secret-0123456789abcdefghijklmnopqrstuvwxyz";

class AccessDecide : public ::testing::Test {
 protected:
  AccessDecide() : signer_({{"k1", kSecret, true}}) {
    route_.session_id = "priv";
    route_.access = registry::RouteAccess::kLink;
    route_.link_epoch = 3;
    policy_.links = &signer_;
  }
  // Parses `head` (request line and fields, without the final CRLF) and decides.
  Decision decide_for(const std::string& head, bool secure = false) {
    raw_ = head + "\r\n";
    http::ParseResult r = http::parse_request(raw_, {}, req_);
    EXPECT_EQ(r.state, http::ParseState::kComplete) << head;
    return decide(req_, route_, kNowMs, policy_, secure);
  }
  std::string token(int64_t expires_s = kNowMs / 1000 + 3600, uint64_t epoch = 3) {
    return signer_.issue("priv", expires_s, epoch);
  }

  LinkSigner signer_;
  registry::Route route_;
  Policy policy_;
  std::string raw_;
  http::RequestHead req_;
};

TEST_F(AccessDecide, APublicSessionNeedsNothingAndLosesNothing) {
  route_.access = registry::RouteAccess::kPublic;
  policy_.default_link = true;
  Decision d = decide_for("GET / HTTP/1.1\r\nHost: priv.p.test\r\n");
  EXPECT_EQ(d.action, Action::kAllow);
  EXPECT_FALSE(d.strip_cookie || d.strip_authorization || d.strip_token_header);
}

TEST_F(AccessDecide, TheDefaultModeFollowsThePolicy) {
  route_.access = registry::RouteAccess::kDefault;
  EXPECT_EQ(decide_for("GET / HTTP/1.1\r\nHost: a\r\n").action, Action::kAllow);
  policy_.default_link = true;
  EXPECT_EQ(decide_for("GET / HTTP/1.1\r\nHost: a\r\n").action, Action::kForbid);
}

TEST_F(AccessDecide, NothingPresentedIsForbiddenAndSaysSo) {
  Decision d = decide_for("GET / HTTP/1.1\r\nHost: a\r\nCookie: other=1\r\n");
  EXPECT_EQ(d.action, Action::kForbid);
  EXPECT_EQ(d.detail, "no preview link or token");
}

TEST_F(AccessDecide, ALinkInTheQueryBecomesACookieAndARedirectToTheCleanUrl) {
  const std::string t = token();
  Decision d = decide_for("GET /page?a=1&sg_token=" + t + "&b=2 HTTP/1.1\r\nHost: a\r\n");
  ASSERT_EQ(d.action, Action::kRedirect);
  EXPECT_EQ(d.location, "/page?a=1&b=2");
  EXPECT_EQ(d.set_cookie, "sg_access_priv=" + t + "; Path=/; HttpOnly; SameSite=Lax");
  Decision only = decide_for("GET /x?sg_token=" + t + " HTTP/1.1\r\nHost: a\r\n", true);
  EXPECT_EQ(only.location, "/x");
  EXPECT_EQ(only.set_cookie, "sg_access_priv=" + t + "; Path=/; HttpOnly; SameSite=Lax; Secure");
}

TEST_F(AccessDecide, ABadLinkInTheQueryIsForbiddenWithItsReason) {
  Decision expired =
      decide_for("GET /?sg_token=" + token(kNowMs / 1000 - 1) + " HTTP/1.1\r\nHost: a\r\n");
  EXPECT_EQ(expired.action, Action::kForbid);
  EXPECT_EQ(expired.detail, "preview link expired");
  Decision revoked =
      decide_for("GET /?sg_token=" + token(kNowMs / 1000 + 60, 2) + " HTTP/1.1\r\nHost: a\r\n");
  EXPECT_EQ(revoked.detail, "preview link revoked");
  std::string forged = token();
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(decide_for("GET /?sg_token=" + forged + " HTTP/1.1\r\nHost: a\r\n").detail,
            "preview link bad_signature");
}

TEST_F(AccessDecide, EachCredentialIsStrippedWhenItLetTheRequestIn) {
  Decision h = decide_for("GET / HTTP/1.1\r\nHost: a\r\nX-Sessiongate-Token: " + token() + "\r\n");
  EXPECT_EQ(h.action, Action::kAllow);
  EXPECT_TRUE(h.strip_token_header);
  EXPECT_FALSE(h.strip_authorization || h.strip_cookie);
  Decision b = decide_for("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + token() + "\r\n");
  EXPECT_TRUE(b.strip_authorization);
  Decision c =
      decide_for("GET / HTTP/1.1\r\nHost: a\r\nCookie: theme=dark; sg_access_priv=" + token() +
                 "; lang=en\r\n");
  EXPECT_TRUE(c.strip_cookie);
  EXPECT_EQ(c.forwarded_cookie, "theme=dark; lang=en");
}

TEST_F(AccessDecide, AnAuthorizationThatIsNotALinkIsLeftAlone) {
  Decision d = decide_for("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer app-token\r\n");
  EXPECT_EQ(d.action, Action::kForbid);
  EXPECT_EQ(d.detail, "no preview link or token");
}

TEST_F(AccessDecide, ARevokedCookieIsForbiddenNotIgnored) {
  Decision d = decide_for("GET / HTTP/1.1\r\nHost: a\r\nCookie: sg_access_priv=" +
                          token(kNowMs / 1000 + 60, 1) + "\r\n");
  EXPECT_EQ(d.action, Action::kForbid);
  EXPECT_EQ(d.detail, "preview link revoked");
}

TEST(WithoutCookie, DropsOnlyTheNamedPair) {
  EXPECT_EQ(without_cookie("a=1; sg=2;b=3", "sg"), "a=1; b=3");
  EXPECT_EQ(without_cookie("sg=2", "sg"), "");
  EXPECT_EQ(without_cookie("sgx=1; sg=2", "sg"), "sgx=1");
}

}  // namespace
}  // namespace sg::access
