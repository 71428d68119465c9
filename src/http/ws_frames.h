// Where WebSocket frames begin in a relayed byte stream (RFC 6455 §5.2), so that a proxy can
// put a frame of its own between two of them — the 1001 "going away" close it sends when it
// ends a tunnel — without corrupting one in flight. Only frame headers are looked at (at most
// 14 bytes are kept); payloads are counted, not buffered, so following a stream costs a few
// operations per read whatever its size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sg::http {

class WsFrameTracker {
 public:
  // The next `n` bytes of the stream, in order.
  void feed(const char* p, size_t n);
  // Every byte fed so far ends a whole frame (true before the first byte).
  bool at_boundary() const { return !bad_ && have_ == 0 && remaining_ == 0; }
  // A header no endpoint may send (a 64-bit length with its top bit set): boundaries are
  // unknown from here on and at_boundary() stays false.
  bool lost() const { return bad_; }

 private:
  uint8_t hdr_[14] = {};
  size_t have_ = 0;         // header bytes of the current frame seen so far
  uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
  bool bad_ = false;
};

// A close frame with `code` and a short `reason` (at most 123 bytes are used). Frames a client
// sends are masked (RFC 6455 §5.3) with `mask_key`; a server's are not.
std::string ws_close_frame(uint16_t code, std::string_view reason, bool masked,
                           uint32_t mask_key = 0);

}  // namespace sg::http
