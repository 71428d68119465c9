// Incremental, strict decoder for the chunked transfer coding (RFC 9112 section 7.1).
// Feed it whatever bytes arrived; it hands back the payload spans in place (zero-copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/status.h"

namespace sg::http {

// Framing pieces for writing chunked bodies: one gather write of size line, data and CRLF.
inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kCrlfLastChunk = "\r\n0\r\n\r\n";  // a chunk's end, then the last

// The hex size line of one chunk ("1a2b\r\n"), kept beside the data it frames.
struct ChunkSizeLine {
  char buf[20];
  size_t len = 0;
  explicit ChunkSizeLine(size_t n) { set(n); }
  ChunkSizeLine() = default;
  std::string_view set(size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    char tmp[16];
    size_t k = 0;
    do {
      tmp[k++] = kHex[n & 15];
      n >>= 4;
    } while (n != 0);
    len = 0;
    while (k > 0) buf[len++] = tmp[--k];
    buf[len++] = '\r';
    buf[len++] = '\n';
    return view();
  }
  std::string_view view() const { return {buf, len}; }
};

struct ChunkedLimits {
  size_t extension_bytes = 1024;  // per chunk line: a bound on what we must skip
  size_t trailer_bytes = 8192;    // the whole trailer section (trailers are dropped)
};

class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(ChunkedLimits limits = {}) : limits_(limits) {}

  struct Step {
    size_t consumed = 0;    // input bytes used, including `data`
    std::string_view data;  // payload bytes inside the input, possibly empty
    bool done = false;      // the last chunk and trailers were read
    ParseError error{};     // status != 0 on malformed input
  };

  // Consumes a prefix of `in`. Stops after at most one payload span so the caller can forward
  // it before feeding the rest.
  Step step(std::string_view in);
  bool done() const { return state_ == State::kDone; }
  void reset() { *this = ChunkedDecoder(limits_); }

 private:
  enum class State : uint8_t {
    kSize,
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailerLine,
    kTrailerLf,
    kFinalLf,
    kDone
  };
  ChunkedLimits limits_;
  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  size_t size_digits_ = 0;
  size_t ext_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  bool in_quote_ = false;
};

}  // namespace sg::http
