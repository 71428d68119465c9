#include "http/ws_frames.h"

#include <algorithm>

namespace sg::http {

namespace {

// The header's full length once its first two bytes are known.
size_t header_length(const uint8_t* h) {
  const uint8_t len7 = h[1] & 0x7f;
  const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return 2 + ext + ((h[1] & 0x80) ? 4 : 0);
}

}  // namespace

void WsFrameTracker::feed(const char* p, size_t n) {
  while (n > 0 && !bad_) {
    if (remaining_ > 0) {
      const size_t skip = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
      remaining_ -= skip;
      p += skip;
      n -= skip;
      continue;
    }
    hdr_[have_++] = static_cast<uint8_t>(*p++);
    --n;
    if (have_ < 2 || have_ < header_length(hdr_)) continue;
    const uint8_t len7 = hdr_[1] & 0x7f;
    uint64_t len = len7;
    if (len7 == 126) {
      len = (uint64_t{hdr_[2]} << 8) | hdr_[3];
    } else if (len7 == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | hdr_[2 + i];
      if (len >> 63) bad_ = true;  // RFC 6455 §5.2: the most significant bit must be 0
    }
    remaining_ = len;
    have_ = 0;
  }
}

std::string ws_close_frame(uint16_t code, std::string_view reason, bool masked, uint32_t mask_key) {
  reason = reason.substr(0, 123);  // a control frame's payload is at most 125 bytes
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xff);
  payload.append(reason);
  std::string out;
  out += static_cast<char>(0x88);  // FIN, opcode 8 (close)
  out += static_cast<char>((masked ? 0x80 : 0) | payload.size());
  if (masked) {
    const char key[4] = {static_cast<char>(mask_key >> 24), static_cast<char>(mask_key >> 16),
                         static_cast<char>(mask_key >> 8), static_cast<char>(mask_key)};
    out.append(key, 4);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= key[i % 4];
  }
  out += payload;
  return out;
}

}  // namespace sg::http
