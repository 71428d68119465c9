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

// Fields the proxy owns on the way upstream: it sets them from what it knows, never relays them.
bool proxy_owned_request_field(std::string_view name) {
  return iequals(name, "host") || iequals(name, "content-length") || iequals(name, "expect") ||
         iequals(name, "forwarded") || iequals(name, "x-forwarded-for") ||
         iequals(name, "x-forwarded-proto") || iequals(name, "x-forwarded-host");
}

}  // namespace

bool is_hop_by_hop(std::string_view name) {
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "proxy-connection") || iequals(name, "te") ||
         iequals(name, "transfer-encoding") || iequals(name, "upgrade") ||
         iequals(name, "trailer") || iequals(name, "proxy-authorization") ||
         iequals(name, "proxy-authenticate");
}

void serialize_request(const RequestHead& req, const ForwardInfo& info, std::string& out) {
  out.append(req.method).append(" ").append(info.target).append(" HTTP/1.1\r\n");
  append_header(out, "Host", info.host);
  for (const auto& h : req.headers) {
    if (is_hop_by_hop(h.name) || proxy_owned_request_field(h.name) ||
        named_in(req.connection_tokens, h.name)) {
      continue;
    }
    if ((info.strip_token_header && iequals(h.name, "x-sessiongate-token")) ||
        (info.strip_authorization && iequals(h.name, "authorization")) ||
        (info.replace_cookie && iequals(h.name, "cookie"))) {
      continue;
    }
    append_header(out, h.name, h.value);
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
    append_header(out, "Upgrade", req.header("upgrade"));
  }
  out.append("\r\n");
}

void serialize_response(const ResponseHead& res, const ResponseFraming& f, std::string& out) {
  out.append(f.client_http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(res.status));
  out.append(" ").append(res.reason).append("\r\n");
  const bool upgrade = res.status == 101;
  for (const auto& h : res.headers) {
    if (is_hop_by_hop(h.name) || named_in(res.connection_tokens, h.name)) continue;
    // A body-less response keeps the upstream's Content-Length: it describes the representation.
    if (iequals(h.name, "content-length") && f.framing != Framing::kNone) continue;
    append_header(out, h.name, h.value);
  }
  append_framing(out, f.framing, res.content_length, false);
  out.append(f.extra);
  if (upgrade) {
    append_header(out, "Connection", "upgrade");
    append_header(out, "Upgrade", res.header("upgrade"));
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
