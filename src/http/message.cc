// Field lookups on a parsed head, and the classification of field names done once per field
// by the parser (so framing, forwarding and lookups compare a byte, not a name).
#include <cstdint>
#include <cstring>

#include "http/message.h"

namespace sg::http {

namespace {

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

std::string_view find_field(const std::vector<Header>& headers, uint32_t present, Field f) {
  if ((present & bit(f)) == 0) return {};
  for (const auto& h : headers) {
    if (h.id == f) return h.value;
  }
  return {};
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// `n` (a token: letters, digits, !#$%&'*+-.^_`|~) equals the lowercase name `lower` of the
// same length, ASCII case-insensitively. Setting bit 0x20 folds A-Z onto a-z and leaves every
// byte of the known names unchanged; the only other token byte it could map onto one of them
// would be CR onto '-', and CR is not a token byte. Eight bytes per step, tails overlapping.
bool same_name(std::string_view n, std::string_view lower) {
  const char* a = n.data();
  const char* b = lower.data();
  const size_t len = n.size();
  if (len >= 8) {
    constexpr uint64_t kFold = 0x2020202020202020ULL;
    for (size_t i = 0; i + 8 < len; i += 8) {
      if ((load<uint64_t>(a + i) | kFold) != load<uint64_t>(b + i)) return false;
    }
    return (load<uint64_t>(a + len - 8) | kFold) == load<uint64_t>(b + len - 8);
  }
  if (len >= 4) {
    constexpr uint32_t kFold = 0x20202020U;
    return (load<uint32_t>(a) | kFold) == load<uint32_t>(b) &&
           (load<uint32_t>(a + len - 4) | kFold) == load<uint32_t>(b + len - 4);
  }
  return iequals(n, lower);
}

}  // namespace

std::string_view MessageHead::header(std::string_view name) const {
  return find_header(headers, name);
}
std::string_view MessageHead::header(Field f) const {
  return find_field(headers, fields, f);
}

// By length first: most names are rejected by one jump, and a match costs a few word compares.
Field classify_field(std::string_view n) {
  auto is = [n](std::string_view lower) { return same_name(n, lower); };
  switch (n.size()) {
    case 2:
      if (is("te")) return Field::kTe;
      break;
    case 4:
      if (is("host")) return Field::kHost;
      break;
    case 6:
      if (is("accept")) return Field::kAccept;
      if (is("cookie")) return Field::kCookie;
      if (is("expect")) return Field::kExpect;
      break;
    case 7:
      if (is("upgrade")) return Field::kUpgrade;
      if (is("referer")) return Field::kReferer;
      if (is("trailer")) return Field::kTrailer;
      break;
    case 9:
      if (is("forwarded")) return Field::kForwarded;
      break;
    case 10:
      if (is("connection")) return Field::kConnection;
      if (is("user-agent")) return Field::kUserAgent;
      if (is("keep-alive")) return Field::kKeepAlive;
      if (is("tracestate")) return Field::kTracestate;
      break;
    case 11:
      if (is("traceparent")) return Field::kTraceparent;
      break;
    case 12:
      if (is("x-request-id")) return Field::kXRequestId;
      break;
    case 13:
      if (is("authorization")) return Field::kAuthorization;
      break;
    case 14:
      if (is("content-length")) return Field::kContentLength;
      break;
    case 15:
      if (is("x-forwarded-for")) return Field::kXForwardedFor;
      if (is("accept-encoding")) return Field::kAcceptEncoding;
      break;
    case 16:
      if (is("proxy-connection")) return Field::kProxyConnection;
      if (is("x-forwarded-host")) return Field::kXForwardedHost;
      break;
    case 17:
      if (is("transfer-encoding")) return Field::kTransferEncoding;
      if (is("x-forwarded-proto")) return Field::kXForwardedProto;
      if (is("sec-websocket-key")) return Field::kSecWebSocketKey;
      break;
    case 18:
      if (is("proxy-authenticate")) return Field::kProxyAuthenticate;
      if (is("x-sessiongate-wait")) return Field::kXSessiongateWait;
      break;
    case 19:
      if (is("proxy-authorization")) return Field::kProxyAuthorization;
      if (is("x-sessiongate-token")) return Field::kXSessiongateToken;
      break;
    case 20:
      if (is("sec-websocket-accept")) return Field::kSecWebSocketAccept;
      break;
    case 21:
      if (is("x-sessiongate-session")) return Field::kXSessiongateSession;
      break;
    default:
      break;
  }
  return Field::kOther;
}

}  // namespace sg::http
