#include "access/scoped_token.h"

#include <gtest/gtest.h>

namespace sg::access {
namespace {

const LinkKey kOld{"old", std::string(32, 'o'), false};
const LinkKey kNew{"new", std::string(32, 'n'), true};

TEST(ScopedTokens, BindsOneContainerAndWhatItMayDo) {
  ScopedTokens t({kNew});
  Scope s;
  EXPECT_EQ(t.verify(t.issue("c1", 2000, false), 1000, s), Verdict::kValid);
  EXPECT_EQ(s.container, "c1");
  EXPECT_FALSE(s.sessions);
  EXPECT_EQ(t.verify(t.issue("c2", 2000, true), 1000, s), Verdict::kValid);
  EXPECT_EQ(s.container, "c2");
  EXPECT_TRUE(s.sessions);
  EXPECT_EQ(t.verify(t.issue("c1", 2000, false), 2000, s), Verdict::kExpired);
}

TEST(ScopedTokens, AClaimChangedAfterSigningIsRefused) {
  ScopedTokens t({kNew});
  Scope s;
  const std::string token = t.issue("c1", 2000, false);
  std::string wider = token;
  wider.replace(token.find(".0."), 3, ".1.");  // the scope: 0 (container) -> 1 (sessions)
  EXPECT_EQ(t.verify(wider, 1000, s), Verdict::kBadSignature);
  std::string other = token;
  other.replace(other.find("c:c1"), 4, "c:c9");
  EXPECT_EQ(t.verify(other, 1000, s), Verdict::kBadSignature);
  std::string later = token;
  later.replace(later.find(".2000."), 6, ".9999.");
  EXPECT_EQ(t.verify(later, 1000, s), Verdict::kBadSignature);
  EXPECT_EQ(t.verify(token.substr(0, token.size() - 1), 1000, s), Verdict::kBadSignature);
  for (const char* junk :
       {"", "v1.c:", "v1.c:c1", "v1.c:c1.2000.5.n.new.x", "admin-token", "v1.c:c1.x.0.n.new.sig"}) {
    EXPECT_NE(t.verify(junk, 1000, s), Verdict::kValid) << junk;
  }
}

TEST(ScopedTokens, RotationVerifiesWithTheOldKeyAndSignsWithTheNew) {
  const std::string before =
      ScopedTokens({LinkKey{"old", kOld.secret, true}}).issue("c1", 2000, false);
  ScopedTokens rotated({kOld, kNew});
  Scope s;
  EXPECT_EQ(rotated.verify(before, 1000, s), Verdict::kValid);
  EXPECT_NE(rotated.issue("c1", 2000, false).find(".new."), std::string::npos);
  EXPECT_EQ(ScopedTokens({kNew}).verify(before, 1000, s), Verdict::kUnknownKey);
}

TEST(ScopedTokens, APreviewLinkIsNeverAScopedTokenEvenUnderTheSameSecret) {
  LinkSigner links({kNew});
  ScopedTokens t({kNew});
  Scope s;
  const std::string link = links.issue("c1", 2000, 0);
  EXPECT_FALSE(ScopedTokens::looks_scoped(link));
  EXPECT_EQ(t.verify(link, 1000, s), Verdict::kMalformed);
  // And a scoped token is no preview link for any session id (they have no ':').
  EXPECT_NE(links.verify(t.issue("c1", 2000, false), "c1", 1000, 0), Verdict::kValid);
}

}  // namespace
}  // namespace sg::access
