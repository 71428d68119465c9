// Scoped admin tokens: the credential a container's agent holds instead of the admin token.
// One token is bound to one container id and may register, heartbeat and update that
// container only (and, when minted with `sessions`, create or update sessions that point at
// it). Signed with admin.token_keys — never the preview-link keys — so rotating keys works as
// for links: a new signing key, the old one kept to verify until its tokens expire.
//
// Token: a preview-link token (access/link_token.h) whose subject is "c:<container>" (no
// session id contains ':', so no link can be taken for a token even under a shared secret)
// and whose epoch says what it may do (0: its container; 1: also its sessions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "access/link_token.h"

namespace sg::access {

struct Scope {
  std::string container;
  bool sessions = false;  // may create and update sessions that point at its container
};

class ScopedTokens {
 public:
  explicit ScopedTokens(std::vector<LinkKey> keys) : signer_(std::move(keys)) {}
  bool can_sign() const { return signer_.can_sign(); }
  std::string issue(std::string_view container, int64_t expires_s, bool sessions) const;
  // kValid with `out` filled in, or why the token is refused.
  Verdict verify(std::string_view token, int64_t now_s, Scope& out) const;
  // Whether `token` has the shape of a scoped token (so a refusal can say why).
  static bool looks_scoped(std::string_view token) { return token.starts_with("v1.c:"); }

 private:
  LinkSigner signer_;
};

}  // namespace sg::access
