// An HTTP/2 request's fields (RFC 9113 section 8.3) written as the HTTP/1.1 head the rest of the
// data plane reads. The strict HTTP/1.1 parser then applies every rule it applies to HTTP/1.1
// clients (target form, Host, framing, field syntax) to h2 requests too, and the exchange
// forwards them upstream unchanged in shape.
//
// The frame codec (nghttp2, with its HTTP messaging checks on) has already refused what
// HTTP/2 itself forbids: unknown, duplicate, missing or late pseudo-headers, uppercase names,
// connection-specific fields, `te` other than "trailers", CR/LF/NUL in values, a body longer
// or shorter than its content-length. What is left here is what only the router knows:
// :authority against Host, the header list limits (431, as for HTTP/1.1), which methods and
// :protocol values it serves, and the mapping itself:
//   - cookie fields, which h2 may split, are joined into one line with "; " (section 8.2.3);
//   - a request whose stream stays open without a content-length gets a chunked body;
//   - an extended CONNECT for `websocket` (RFC 8441) becomes a GET with Upgrade, carrying a
//     Sec-WebSocket-Key the router chose, so the container sees an ordinary handshake.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sg::http {

struct H2HeadLimits {
  size_t header_bytes = 32768;  // sum of name + value + 32 per field (HPACK's own measure)
  size_t header_fields = 100;
};

enum class H2HeadStatus : uint8_t {
  kOk,
  kBad,             // 400
  kTooLarge,        // 431
  kNotImplemented,  // 501: CONNECT as a proxy, or an extended CONNECT for another protocol
};

class H2RequestHead {
 public:
  explicit H2RequestHead(const H2HeadLimits& limits) : limits_(limits) {}

  // Ready for another request (keeps the storage).
  void reset();

  // One field as decoded, pseudo-headers first (the codec keeps that order).
  void add(std::string_view name, std::string_view value);

  // An extended CONNECT for websocket (RFC 8441): finish() needs a Sec-WebSocket-Key.
  bool wants_websocket() const;

  // Writes the HTTP/1.1 head into `out`. `body_follows`: the stream stays open after the
  // headers (DATA frames may come). `websocket_key`: used only for an RFC 8441 request.
  H2HeadStatus finish(bool body_follows, std::string_view websocket_key, std::string& out);

  const char* reason() const { return reason_; }
  // After finish(): the body is sent chunked (chunked()), the request is an RFC 8441 WebSocket.
  bool chunked() const { return chunked_; }
  bool websocket() const { return websocket_; }
  // True once any field was seen that names a content-length.
  bool has_length() const { return has_length_; }

 private:
  H2HeadStatus fail(H2HeadStatus s, const char* reason) {
    if (status_ == H2HeadStatus::kOk) {
      status_ = s;
      reason_ = reason;
    }
    return status_;
  }

  H2HeadLimits limits_;
  std::string method_, scheme_, authority_, path_, protocol_, host_;
  std::string fields_;  // "name: value\r\n" lines, in order
  std::string cookie_;  // the cookie fields, joined
  size_t bytes_ = 0;
  size_t count_ = 0;
  bool has_host_ = false;
  bool has_length_ = false;
  bool chunked_ = false;
  bool websocket_ = false;
  H2HeadStatus status_ = H2HeadStatus::kOk;
  const char* reason_ = "";
};

}  // namespace sg::http
