// Strict, zero-copy HTTP/1.1 head parsers (RFC 9112). Stateless: call again with the whole
// buffered head when more bytes arrive. Anything ambiguous is rejected, never repaired.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"
#include "http/status.h"

namespace sg::http {

struct ParseLimits {
  size_t request_line = 8192;  // longer -> 414
  size_t head_bytes = 32768;   // request line + fields; longer -> 431
  size_t fields = 100;         // more -> 431
};

ParseResult parse_request(std::string_view buf, const ParseLimits& limits, RequestHead& out);

// `request_method` decides bodies of HEAD responses; upstream heads are as untrusted as clients.
ParseResult parse_response(std::string_view buf, const ParseLimits& limits, Method request_method,
                           ResponseHead& out);

}  // namespace sg::http
