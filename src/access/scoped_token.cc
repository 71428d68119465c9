#include "access/scoped_token.h"

namespace sg::access {

namespace {
constexpr std::string_view kSubject = "c:";
}

std::string ScopedTokens::issue(std::string_view container, int64_t expires_s,
                                bool sessions) const {
  return signer_.issue(std::string(kSubject) + std::string(container), expires_s, sessions ? 1 : 0);
}

Verdict ScopedTokens::verify(std::string_view token, int64_t now_s, Scope& out) const {
  if (!looks_scoped(token) || token.size() > 512) return Verdict::kMalformed;
  // v1.<subject>.<expires>.<scope>.<nonce>.<key>.<mac>: the claims are read here, then the
  // signer checks the signature over all of them.
  const size_t subject_end = token.find('.', 3);
  if (subject_end == std::string_view::npos) return Verdict::kMalformed;
  const size_t expires_end = token.find('.', subject_end + 1);
  if (expires_end == std::string_view::npos) return Verdict::kMalformed;
  const std::string_view scope = token.substr(expires_end + 1, 2);
  if (scope != "0." && scope != "1.") return Verdict::kMalformed;
  const std::string_view subject = token.substr(3, subject_end - 3);
  const uint64_t epoch = scope[0] == '1' ? 1 : 0;
  const Verdict v = signer_.verify(token, subject, now_s, epoch);
  if (v != Verdict::kValid) return v;
  out.container = std::string(subject.substr(kSubject.size()));
  out.sessions = epoch == 1;
  return v;
}

}  // namespace sg::access
