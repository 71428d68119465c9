// Response heads from untrusted upstreams: no out-of-bounds reads, consistent framing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  auto method = (data[0] & 1) ? sg::http::Method::kHead : sg::http::Method::kGet;
  sg::http::ParseLimits limits{1024, 4096, 50};
  sg::http::ResponseHead res;
  sg::http::ParseResult r = sg::http::parse_response(in, limits, method, res);
  if (r.state == sg::http::ParseState::kComplete) {
    if (r.consumed > in.size()) std::abort();
    if (res.status < 100 || res.status > 599) std::abort();
    if (method == sg::http::Method::kHead && res.framing != sg::http::Framing::kNone) std::abort();
  } else if (r.state == sg::http::ParseState::kError && r.error.status != 502) {
    std::abort();
  }
  return 0;
}
