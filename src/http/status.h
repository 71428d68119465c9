// The outcome of parsing: a complete message, a need for more bytes, or a precise rejection.
#pragma once

#include <cstddef>

namespace sg::http {

struct ParseError {
  int status = 0;                // the HTTP status the peer gets (400, 414, 431, 501, 505, ...)
  const char* reason = nullptr;  // short, precise, static text for logs and error bodies
};

enum class ParseState { kComplete, kIncomplete, kError };

struct ParseResult {
  ParseState state = ParseState::kIncomplete;
  size_t consumed = 0;  // bytes of the head, valid when kComplete
  ParseError error{};

  static ParseResult complete(size_t n) { return {ParseState::kComplete, n, {}}; }
  static ParseResult incomplete() { return {}; }
  static ParseResult fail(int status, const char* reason) {
    return {ParseState::kError, 0, {status, reason}};
  }
};

}  // namespace sg::http
