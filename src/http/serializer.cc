#include "http/serializer.h"

#include <algorithm>
#include <cassert>
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

// Writes a head into space reserved once: the caller sizes the string for the worst case,
// every piece is copied straight in, and the string is cut to what was written at the end.
// (Appending field by field grew and zero-filled the string for every line.)
class HeadWriter {
 public:
  HeadWriter(std::string& out, size_t bound) : out_(out), at_(out.size()) {
    out.resize(at_ + bound);
    p_ = out.data() + at_;
    end_ = p_ + bound;
  }
  ~HeadWriter() { out_.resize(static_cast<size_t>(p_ - out_.data())); }
  HeadWriter(const HeadWriter&) = delete;
  HeadWriter& operator=(const HeadWriter&) = delete;

  HeadWriter& put(std::string_view s) {
    assert(static_cast<size_t>(end_ - p_) >= s.size());
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());  // data() may be null
    p_ += s.size();
    return *this;
  }
  void header(std::string_view name, std::string_view value) {
    put(name).put(": ").put(value).put("\r\n");
  }
  void header(const Header& h) {
    if (h.canonical_line) {
      put(h.line());
    } else {
      header(h.name, h.value);
    }
  }
  void number(uint64_t v) {
    assert(end_ - p_ >= 20);
    p_ = std::to_chars(p_, end_, v).ptr;
  }
  // The one framing field a re-serialised message carries. A body-less POST/PUT/PATCH still
  // says `Content-Length: 0` so the upstream does not wait for a body.
  void framing(Framing framing, uint64_t length, bool zero_if_none) {
    switch (framing) {
      case Framing::kLength:
        put("Content-Length: ");
        number(length);
        put("\r\n");
        break;
      case Framing::kChunked:
        put("Transfer-Encoding: chunked\r\n");
        break;
      default:
        if (zero_if_none) put("Content-Length: 0\r\n");
        break;
    }
  }

 private:
  std::string& out_;
  size_t at_;
  char* p_;
  char* end_;
};

// Room for every field line of `headers` as relayed ("name: value\r\n").
size_t fields_bound(const std::vector<Header>& headers) {
  size_t n = 0;
  for (const auto& h : headers) n += h.name.size() + h.value.size() + 4;
  return n;
}

// Room for the fixed text the serialisers add (status and request lines, framing, Connection
// and forwarding field names, numbers): generous, checked by assertions in debug builds.
constexpr size_t kFixedBound = 352;

constexpr uint32_t kHopByHop =
    bit(Field::kConnection) | bit(Field::kKeepAlive) | bit(Field::kProxyConnection) |
    bit(Field::kTe) | bit(Field::kTransferEncoding) | bit(Field::kUpgrade) | bit(Field::kTrailer) |
    bit(Field::kProxyAuthorization) | bit(Field::kProxyAuthenticate);

// Fields the proxy owns on the way upstream: it sets them from what it knows, never relays them.
constexpr uint32_t kProxyOwnedRequest =
    bit(Field::kHost) | bit(Field::kContentLength) | bit(Field::kExpect) | bit(Field::kForwarded) |
    bit(Field::kXForwardedFor) | bit(Field::kXForwardedProto) | bit(Field::kXForwardedHost) |
    bit(Field::kXRequestId) | bit(Field::kXSessiongateSession);

// Not relayed: dropped by id, or named by the message's own Connection field.
bool dropped(const Header& h, uint32_t drop, const std::vector<std::string_view>& tokens) {
  return (bit(h.id) & drop) != 0 || (!tokens.empty() && named_in(tokens, h.name));
}

// Appends every value of `f` as one list ("a, b"); false when the message has none.
bool put_list(HeadWriter& w, const RequestHead& req, Field f) {
  bool any = false;
  for (const auto& h : req.headers) {
    if (h.id != f || h.value.empty()) continue;
    if (any) w.put(", ");
    w.put(h.value);
    any = true;
  }
  return any;
}

// The forwarding fields. From an untrusted peer whatever the client sent is replaced: the edge
// vouches only for what it saw itself. From a trusted proxy the chains are extended.
void write_forwarding(HeadWriter& w, const RequestHead& req, const ForwardInfo& info) {
  const bool keep = info.keep_forwarded;
  w.put("Forwarded: ");
  if (keep && put_list(w, req, Field::kForwarded)) w.put(", ");
  w.put("for=");
  if (info.client_ipv6) {
    w.put("\"[").put(info.client_ip).put("]\"");
  } else {
    w.put(info.client_ip);
  }
  w.put(";proto=").put(info.proto);
  if (!req.host.empty()) w.put(";host=\"").put(req.host).put("\"");
  w.put("\r\n");
  w.put("X-Forwarded-For: ");
  if (keep && put_list(w, req, Field::kXForwardedFor)) w.put(", ");
  w.put(info.client_ip).put("\r\n");
  const std::string_view proto = keep ? req.header(Field::kXForwardedProto) : std::string_view();
  w.header("X-Forwarded-Proto", proto.empty() ? info.proto : proto);
  const std::string_view host = keep ? req.header(Field::kXForwardedHost) : std::string_view();
  if (!host.empty()) {
    w.header("X-Forwarded-Host", host);
  } else if (!req.host.empty()) {
    w.header("X-Forwarded-Host", req.host);
  }
}

}  // namespace

bool is_hop_by_hop(std::string_view name) {
  return (bit(classify_field(name)) & kHopByHop) != 0;
}

bool hop_by_hop(const Header& h, const MessageHead& m) {
  return dropped(h, kHopByHop, m.connection_tokens);
}

void serialize_request(const RequestHead& req, const ForwardInfo& info, std::string& out) {
  const std::string_view upgrade = req.upgrade ? req.header(Field::kUpgrade) : std::string_view();
  HeadWriter w(out, kFixedBound + req.method.size() + info.target.size() + info.host.size() +
                        fields_bound(req.headers) + info.cookie.size() + 2 * info.client_ip.size() +
                        2 * info.proto.size() + 2 * req.host.size() + upgrade.size() +
                        info.request_id_line.size());
  w.put(req.method).put(" ").put(info.target).put(" HTTP/1.1\r\n");
  w.header("Host", info.host);
  const uint32_t drop = kHopByHop | kProxyOwnedRequest |
                        (info.strip_token_header ? bit(Field::kXSessiongateToken) : 0) |
                        (info.strip_authorization ? bit(Field::kAuthorization) : 0) |
                        (info.replace_cookie ? bit(Field::kCookie) : 0) |
                        (info.drop_trace ? bit(Field::kTraceparent) | bit(Field::kTracestate) : 0) |
                        (info.identity_only ? bit(Field::kAcceptEncoding) : 0);
  for (const auto& h : req.headers) {
    if (!dropped(h, drop, req.connection_tokens)) w.header(h);
  }
  if (info.replace_cookie && !info.cookie.empty()) w.header("Cookie", info.cookie);
  write_forwarding(w, req, info);
  w.put(info.request_id_line);
  const bool sends_body = req.method_id == Method::kPost || req.method_id == Method::kPut ||
                          req.method_id == Method::kPatch;
  w.framing(req.framing, req.content_length, sends_body);
  if (req.upgrade) {
    w.header("Connection", "upgrade");
    w.header("Upgrade", upgrade);
  }
  w.put("\r\n");
}

void serialize_response(const ResponseHead& res, const ResponseFraming& f, std::string& out) {
  const bool upgrade = res.status == 101;
  const std::string_view upgrade_to = upgrade ? res.header(Field::kUpgrade) : std::string_view();
  HeadWriter w(out, kFixedBound + res.reason.size() + fields_bound(res.headers) + f.extra.size() +
                        upgrade_to.size());
  w.put(f.client_http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  w.number(static_cast<uint64_t>(res.status));
  w.put(" ").put(res.reason).put("\r\n");
  // A body-less response keeps the upstream's Content-Length: it describes the representation.
  // X-Request-Id is the router's: the client gets the id of its request (in `extra`).
  const uint32_t drop = kHopByHop | bit(Field::kXRequestId) |
                        (f.framing != Framing::kNone ? bit(Field::kContentLength) : 0);
  for (const auto& h : res.headers) {
    if (!dropped(h, drop, res.connection_tokens)) w.header(h);
  }
  w.framing(f.framing, res.content_length, false);
  w.put(f.extra);
  if (upgrade) {
    w.header("Connection", "upgrade");
    w.header("Upgrade", upgrade_to);
  } else if (!f.keep_alive) {
    w.put("Connection: close\r\n");
  } else if (f.client_http10) {
    w.put("Connection: keep-alive\r\n");
  }
  w.put("\r\n");
}

void serialize_interim(const ResponseHead& res, std::string& out) {
  // An interim response is a final one without body, framing or connection management.
  serialize_response(res, ResponseFraming{Framing::kNone, true, false, {}}, out);
}

}  // namespace sg::http
