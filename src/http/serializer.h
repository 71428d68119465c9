// Canonical re-serialisation of message heads: what leaves the proxy is built from the parsed
// head, never relayed raw. Hop-by-hop fields and those named in Connection are dropped.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace sg::http {

struct ForwardInfo {
  std::string_view client_ip;  // peer address of the downstream connection
  bool client_ipv6 = false;
  std::string_view proto = "http";  // the scheme the client used to reach us
  // The peer is a trusted proxy: its X-Forwarded-For and Forwarded chains are extended with the
  // peer, its X-Forwarded-Proto and X-Forwarded-Host kept. Otherwise all four are replaced.
  bool keep_forwarded = false;
  std::string_view host;    // Host sent upstream (the client's, or a rewrite)
  std::string_view target;  // request-target sent upstream (the client's, or a rewrite)
  // Credentials the proxy consumed are not forwarded.
  bool strip_token_header = false;   // X-Sessiongate-Token
  bool strip_authorization = false;  // Authorization (it carried our token)
  bool replace_cookie = false;       // send `cookie` instead of the client's Cookie fields
  std::string_view cookie;           // empty with replace_cookie: no Cookie at all
  // "X-Request-Id: <id>\r\n", sent as is (the client's own is never relayed as such).
  std::string_view request_id_line;
  bool drop_trace = false;  // an invalid traceparent: neither it nor tracestate is relayed
  // Accept-Encoding is not relayed, so the upstream answers uncompressed (a page the router
  // inserts a script into).
  bool identity_only = false;
};

// Appends the upstream request head. `framing` is how the body will be sent upstream.
void serialize_request(const RequestHead& req, const ForwardInfo& info, std::string& out);

struct ResponseFraming {
  Framing framing = Framing::kNone;  // how the body is sent downstream
  bool keep_alive = true;            // downstream connection stays open after this response
  bool client_http10 = false;
  std::string_view extra;  // complete header lines added by the proxy (e.g. Set-Cookie)
};

void serialize_response(const ResponseHead& res, const ResponseFraming& f, std::string& out);

// Interim 1xx (other than 101) head, forwarded as received minus hop-by-hop fields.
void serialize_interim(const ResponseHead& res, std::string& out);

bool is_hop_by_hop(std::string_view name);
// True when a field of `m` is not relayed to the next hop: hop-by-hop, or named by the
// message's own Connection field. (What every serialiser here drops; HTTP/2 drops it too.)
bool hop_by_hop(const Header& h, const MessageHead& m);

}  // namespace sg::http
