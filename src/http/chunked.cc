#include "http/chunked.h"

#include <algorithm>

#include "http/chars.h"

namespace sg::http {

namespace {
constexpr uint64_t kMaxChunkSize = uint64_t{1}
                                   << 60;  // far above any sane chunk, far below overflow
}

ChunkedDecoder::Step ChunkedDecoder::step(std::string_view in) {
  Step out;
  size_t i = 0;
  auto fail = [&](int status, const char* reason) {
    out.consumed = i;
    out.error = {status, reason};
    return out;
  };
  while (i < in.size()) {
    const char c = in[i];
    switch (state_) {
      case State::kSize: {
        int v = chars::hex_value(c);
        if (v >= 0) {
          if (remaining_ > (kMaxChunkSize >> 4)) return fail(400, "chunk size too large");
          remaining_ = (remaining_ << 4) | static_cast<uint64_t>(v);
          ++size_digits_;
          ++i;
          break;
        }
        if (size_digits_ == 0) return fail(400, "invalid chunk size");
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || chars::is_ows(c)) {
          state_ = State::kExtension;
          ext_bytes_ = 0;
          in_quote_ = false;
        } else {
          return fail(400, "invalid character after chunk size");
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r' && !in_quote_) {
          state_ = State::kSizeLf;
        } else if (c == '\n' || c == '\r') {
          return fail(400, "bare LF or CR in chunk extension");
        } else if (!chars::is_field_char(c)) {
          return fail(400, "invalid character in chunk extension");
        } else {
          if (c == '"') in_quote_ = !in_quote_;
          if (++ext_bytes_ > limits_.extension_bytes) return fail(400, "chunk extension too long");
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail(400, "bare CR in chunk size line");
        ++i;
        size_digits_ = 0;
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        out.data = in.substr(i, n);
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = State::kDataCr;
        out.consumed = i;
        return out;
      }
      case State::kDataCr:
        if (c != '\r') return fail(400, "chunk data not followed by CRLF");
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return fail(400, "chunk data not followed by CRLF");
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLf;
        } else if (c == '\n') {
          return fail(400, "bare LF after last chunk");
        } else if (!chars::is_tchar(c)) {
          return fail(400, "invalid trailer field");
        } else {
          state_ = State::kTrailerLine;
        }
        ++i;
        if (++trailer_bytes_ > limits_.trailer_bytes) return fail(400, "trailer section too large");
        break;
      case State::kTrailerLine:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n' || !chars::is_field_char(c)) {
          return fail(400, "invalid character in trailer field");
        }
        ++i;
        if (++trailer_bytes_ > limits_.trailer_bytes) return fail(400, "trailer section too large");
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail(400, "bare CR in trailer field");
        state_ = State::kTrailerStart;
        ++i;
        break;
      case State::kFinalLf:
        if (c != '\n') return fail(400, "bare CR after last chunk");
        ++i;
        state_ = State::kDone;
        out.consumed = i;
        out.done = true;
        return out;
      case State::kDone:
        out.consumed = i;
        out.done = true;
        return out;
    }
  }
  out.consumed = i;
  out.done = state_ == State::kDone;
  return out;
}

}  // namespace sg::http
