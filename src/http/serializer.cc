#include "http/serializer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sg::http {

namespace {

bool named_in(const std::vector<std::string_view>& tokens, std::string_view name) {
  for (auto t : tokens) {
    if (iequals(t, name)) return true;
  }
  return false;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  // One size change and two copies instead of four appends (this runs for every header of
  // every message).
  const size_t at = out.size();
  const size_t n = name.size() + value.size() + 4;
  if (out.capacity() - at < n) out.reserve(std::max(out.capacity() * 2, at + n));
  out.resize(at + n);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  if (!value.empty()) std::memcpy(p, value.data(), value.size());  // data() may be null
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

// The one framing field a re-serialised message carries. A body-less POST/PUT/PATCH still
// says `Content-Length: 0` so the upstream does not wait for a body.
void append_framing(std::string& out, Framing framing, uint64_t length, bool zero_if_none) {
  switch (framing) {
    case Framing::kLength:
      out.append("Content-Length: ");
      append_number(out, length);
      out.append("\r\n");
      break;
    case Framing::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    default:
      if (zero_if_none) out.append("Content-Length: 0\r\n");
      break;
  }
}

constexpr uint32_t kHopByHop =
    bit(Field::kConnection) | bit(Field::kKeepAlive) | bit(Field::kProxyConnection) |
    bit(Field::kTe) | bit(Field::kTransferEncoding) | bit(Field::kUpgrade) | bit(Field::kTrailer) |
    bit(Field::kProxyAuthorization) | bit(Field::kProxyAuthenticate);

// Fields the proxy owns on the way upstream: it sets them from what it knows, never relays them.
constexpr uint32_t kProxyOwnedRequest =
    bit(Field::kHost) | bit(Field::kContentLength) | bit(Field::kExpect) | bit(Field::kForwarded) |
    bit(Field::kXForwardedFor) | bit(Field::kXForwardedProto) | bit(Field::kXForwardedHost);

// Not relayed: dropped by id, or named by the message's own Connection field.
bool dropped(const Header& h, uint32_t drop, const std::vector<std::string_view>& tokens) {
  return (bit(h.id) & drop) != 0 || (!tokens.empty() && named_in(tokens, h.name));
}

}  // namespace

bool is_hop_by_hop(std::string_view name) {
  return (bit(classify_field(name)) & kHopByHop) != 0;
}

void serialize_request(const RequestHead& req, const ForwardInfo& info, std::string& out) {
  out.append(req.method).append(" ").append(info.target).append(" HTTP/1.1\r\n");
  append_header(out, "Host", info.host);
  const uint32_t drop = kHopByHop | kProxyOwnedRequest |
                        (info.strip_token_header ? bit(Field::kXSessiongateToken) : 0) |
                        (info.strip_authorization ? bit(Field::kAuthorization) : 0) |
                        (info.replace_cookie ? bit(Field::kCookie) : 0);
  for (const auto& h : req.headers) {
    if (!dropped(h, drop, req.connection_tokens)) append_header(out, h.name, h.value);
  }
  if (info.replace_cookie && !info.cookie.empty()) append_header(out, "Cookie", info.cookie);
  // Client-supplied forwarding headers are replaced, not appended to: the edge is not trusted.
  out.append("Forwarded: for=");
  if (info.client_ipv6) {
    out.append("\"[").append(info.client_ip).append("]\"");
  } else {
    out.append(info.client_ip);
  }
  out.append(";proto=").append(info.proto);
  if (!req.host.empty()) out.append(";host=\"").append(req.host).append("\"");
  out.append("\r\n");
  append_header(out, "X-Forwarded-For", info.client_ip);
  append_header(out, "X-Forwarded-Proto", info.proto);
  if (!req.host.empty()) append_header(out, "X-Forwarded-Host", req.host);
  const bool sends_body = req.method_id == Method::kPost || req.method_id == Method::kPut ||
                          req.method_id == Method::kPatch;
  append_framing(out, req.framing, req.content_length, sends_body);
  if (req.upgrade) {
    append_header(out, "Connection", "upgrade");
    append_header(out, "Upgrade", req.header(Field::kUpgrade));
  }
  out.append("\r\n");
}

void serialize_response(const ResponseHead& res, const ResponseFraming& f, std::string& out) {
  out.append(f.client_http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(res.status));
  out.append(" ").append(res.reason).append("\r\n");
  const bool upgrade = res.status == 101;
  // A body-less response keeps the upstream's Content-Length: it describes the representation.
  const uint32_t drop = kHopByHop | (f.framing != Framing::kNone ? bit(Field::kContentLength) : 0);
  for (const auto& h : res.headers) {
    if (!dropped(h, drop, res.connection_tokens)) append_header(out, h.name, h.value);
  }
  append_framing(out, f.framing, res.content_length, false);
  out.append(f.extra);
  if (upgrade) {
    append_header(out, "Connection", "upgrade");
    append_header(out, "Upgrade", res.header(Field::kUpgrade));
  } else if (!f.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (f.client_http10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void serialize_interim(const ResponseHead& res, std::string& out) {
  // An interim response is a final one without body, framing or connection management.
  serialize_response(res, ResponseFraming{Framing::kNone, true, false, {}}, out);
}

}  // namespace sg::http
