// The preview-access decision for one request to a session: let it through (and say which
// credential to strip before forwarding), exchange a link in the query for a cookie and
// redirect to the clean URL, or refuse. Pure: no I/O, no clock of its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "access/link_token.h"
#include "http/message.h"
#include "registry/route.h"

namespace sg::access {

struct Policy {
  const LinkSigner* links = nullptr;
  std::string_view token_param = "sg_token";  // the query parameter carrying a link
  bool default_link = false;                  // sessions with no access mode need a link
};

enum class Action : uint8_t { kAllow, kRedirect, kForbid };

struct Decision {
  Action action = Action::kAllow;
  // kAllow: the credential that let the request in is not forwarded to the container.
  bool strip_token_header = false;
  bool strip_authorization = false;
  bool strip_cookie = false;
  std::string forwarded_cookie;  // the Cookie header without the access cookie (strip_cookie)
  // kRedirect: where to, and the cookie that replaces the link.
  std::string location;
  std::string set_cookie;
  // kForbid: why, for the 403 page.
  std::string detail;
};

// Whether a request to this route needs a preview link at all.
inline bool needs_link(const registry::Route& route, const Policy& policy) {
  return route.access == registry::RouteAccess::kLink ||
         (route.access == registry::RouteAccess::kDefault && policy.default_link);
}

// `secure`: the client reached us over TLS (a trusted proxy said so), so the cookie is Secure.
Decision decide(const http::RequestHead& req, const registry::Route& route, int64_t now_ms,
                const Policy& policy, bool secure);

// The Cookie header without the pair named `name` (pairs re-joined with "; ").
std::string without_cookie(std::string_view header, std::string_view name);

}  // namespace sg::access
