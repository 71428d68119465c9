// Signed, expiring preview links: HMAC-SHA256 over session id, expiry, the session's link
// epoch, a nonce and the key id. Several keys verify (rotation), one signs. Bumping a
// session's epoch revokes every link issued before.
//
// Token: v1.<session>.<expires_s>.<epoch>.<nonce>.<key id>.<base64url signature>
// Every part is URL-safe, so the token travels as a query parameter, header or cookie as is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sg::access {

struct LinkKey {
  std::string id;      // [A-Za-z0-9_-]{1,32}
  std::string secret;  // at least 32 bytes
  bool sign = false;   // exactly one key signs
};

enum class Verdict {
  kValid,
  kMalformed,
  kWrongSession,
  kExpired,
  kRevoked,
  kUnknownKey,
  kBadSignature
};
std::string_view to_string(Verdict v);

class LinkSigner {
 public:
  LinkSigner() = default;
  explicit LinkSigner(std::vector<LinkKey> keys);
  bool can_sign() const { return signing_ >= 0; }

  std::string issue(std::string_view session, int64_t expires_s, uint64_t epoch) const;
  Verdict verify(std::string_view token, std::string_view session, int64_t now_s,
                 uint64_t epoch) const;

 private:
  std::string mac(const LinkKey& key, std::string_view payload) const;
  std::vector<LinkKey> keys_;
  int signing_ = -1;  // index into keys_ (an index survives copies, a pointer would not)
};

}  // namespace sg::access
