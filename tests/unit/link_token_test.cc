#include "access/link_token.h"

#include <gtest/gtest.h>

namespace sg::access {
namespace {

const std::string kSecret1(40, 'a');
const std::string kSecret2(40, 'b');

TEST(LinkToken, IssueAndVerify) {
  LinkSigner s({{"k1", kSecret1, true}});
  std::string t = s.issue("thread-1", 1000, 3);
  EXPECT_EQ(s.verify(t, "thread-1", 999, 3), Verdict::kValid);
  EXPECT_EQ(s.verify(t, "thread-1", 1000, 3), Verdict::kExpired);
  EXPECT_EQ(s.verify(t, "thread-2", 999, 3), Verdict::kWrongSession);
  EXPECT_EQ(s.verify(t, "thread-1", 999, 4), Verdict::kRevoked);
  EXPECT_NE(s.issue("thread-1", 1000, 3), t);  // nonce
}

TEST(LinkToken, TamperingAndKeys) {
  LinkSigner s({{"k1", kSecret1, true}});
  std::string t = s.issue("t", 1000, 0);
  std::string forged = t;
  forged.replace(forged.find(".1000."), 6, ".9999.");  // extend the expiry
  EXPECT_EQ(s.verify(forged, "t", 999, 0), Verdict::kBadSignature);
  std::string other_session = t;
  other_session.replace(3, 1, "u");
  EXPECT_EQ(s.verify(other_session, "u", 999, 0), Verdict::kBadSignature);
  EXPECT_EQ(s.verify("v1.t.1000.0.x.k9.sig", "t", 999, 0), Verdict::kUnknownKey);
  for (const char* bad :
       {"", "v2.t.1.0.x.k1.s", "v1.t.x.0.n.k1.s", "v1.t", "v1.t.1.0.n.k1.s.extra"}) {
    EXPECT_NE(s.verify(bad, "t", 0, 0), Verdict::kValid) << bad;
  }
  LinkSigner rotated({{"k2", kSecret2, true}, {"k1", kSecret1, false}});
  EXPECT_EQ(rotated.verify(t, "t", 999, 0), Verdict::kValid);
  EXPECT_NE(rotated.issue("t", 1000, 0).find(".k2."), std::string::npos);
  LinkSigner copy = rotated;  // the signing key survives copies
  EXPECT_TRUE(copy.can_sign());
  EXPECT_EQ(copy.verify(copy.issue("t", 1000, 0), "t", 999, 0), Verdict::kValid);
}

}  // namespace
}  // namespace sg::access
