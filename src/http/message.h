// Parsed HTTP/1.1 message heads. Every string_view points into the connection's read buffer,
// so a head is valid only until that buffer is compacted or refilled.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sg::http {

// Fields the proxy acts on, recognised once when a head is parsed so that framing, forwarding
// and lookups compare a byte instead of names.
enum class Field : uint8_t {
  kOther,
  kHost,
  kContentLength,
  kTransferEncoding,
  kConnection,
  kKeepAlive,
  kProxyConnection,
  kTe,
  kUpgrade,
  kTrailer,
  kProxyAuthorization,
  kProxyAuthenticate,
  kExpect,
  kForwarded,
  kXForwardedFor,
  kXForwardedProto,
  kXForwardedHost,
  kCookie,
  kAuthorization,
  kAccept,
  kReferer,
  kUserAgent,
  kXSessiongateToken,
  kSecWebSocketKey,
  kSecWebSocketAccept,
  kXSessiongateWait,  // the starting page's long poll, answered by the router itself
  kXRequestId,
  kTraceparent,
  kTracestate,
  kXSessiongateSession,  // a session's service worker names the session; never forwarded
  kAcceptEncoding,
};
static_assert(static_cast<unsigned>(Field::kAcceptEncoding) < 32, "Field bits fit a uint32_t mask");

constexpr uint32_t bit(Field f) {
  return uint32_t{1} << static_cast<unsigned>(f);
}

// The Field a name stands for (ASCII case-insensitive), kOther for any other name.
Field classify_field(std::string_view name);

struct Header {
  Header(std::string_view n, std::string_view v) : name(n), value(v), id(classify_field(n)) {}
  Header(std::string_view n, std::string_view v, Field f, bool canonical)
      : name(n), value(v), id(f), canonical_line(canonical) {}
  std::string_view name;
  std::string_view value;
  Field id;
  // Set by the parser when the received line is exactly "name: value\r\n" (one space, no
  // trailing whitespace): it can then be relayed with one copy of the line.
  bool canonical_line = false;
  std::string_view line() const { return {name.data(), name.size() + value.size() + 4}; }
};

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kTrace, kOther };

// Body framing of a message, decided once from its head (RFC 9112 section 6.3).
enum class Framing : uint8_t { kNone, kLength, kChunked, kUntilClose };

// What requests and responses share: version, fields, and how the body is framed.
struct MessageHead {
  int version_minor = 1;
  std::vector<Header> headers;
  uint32_t fields = 0;  // bit(Field) of every recognised field present
  Framing framing = Framing::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;
  std::vector<std::string_view> connection_tokens;  // names listed in Connection

  std::string_view header(std::string_view name) const;
  std::string_view header(Field f) const;

 protected:
  void clear_message() {
    version_minor = 1;
    headers.clear();
    fields = 0;
    connection_tokens.clear();
    framing = Framing::kNone;
    content_length = 0;
    keep_alive = true;
  }
};

struct RequestHead : MessageHead {
  std::string_view method;
  Method method_id = Method::kOther;
  std::string_view target;       // origin-form (or "*"), never absolute-form after parsing
  std::string_view path;         // target without the query
  std::string_view query;        // without the '?'; empty when there is none
  std::string_view host;         // from Host, or the authority of an absolute-form target
  bool upgrade = false;          // Connection: upgrade with an Upgrade header
  bool expect_continue = false;  // Expect: 100-continue

  void clear() {
    clear_message();
    method = target = path = query = host = {};
    method_id = Method::kOther;
    upgrade = expect_continue = false;
  }
  bool idempotent() const {
    return method_id == Method::kGet || method_id == Method::kHead ||
           method_id == Method::kOptions || method_id == Method::kPut ||
           method_id == Method::kDelete || method_id == Method::kTrace;
  }
};

struct ResponseHead : MessageHead {
  int status = 0;
  std::string_view reason;

  void clear() {
    clear_message();
    status = 0;
    reason = {};
  }
};

// ASCII case-insensitive equality. Inline: it runs for every header against a dozen names, and
// most calls end at the length check.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace sg::http
