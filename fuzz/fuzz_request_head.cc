// Request heads: the parser never reads out of bounds, and whatever it accepts re-serialises
// into a head that it accepts again with the same meaning.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/parser.h"
#include "http/serializer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  sg::http::ParseLimits limits{1024, 4096, 50};
  sg::http::RequestHead req;
  sg::http::ParseResult r = sg::http::parse_request(in, limits, req);
  if (r.state != sg::http::ParseState::kComplete) return 0;
  if (r.consumed > size) std::abort();
  std::string out;
  // Requests without Host (HTTP/1.0) get the upstream address, as the proxy does.
  sg::http::ForwardInfo info;
  info.client_ip = "192.0.2.1";
  info.host = req.host.empty() ? std::string_view("upstream") : req.host;
  info.target = req.target;
  sg::http::serialize_request(req, info, out);
  sg::http::RequestHead again;
  sg::http::ParseLimits roomy{1 << 20, 1 << 20, 1000};
  sg::http::ParseResult r2 = sg::http::parse_request(out, roomy, again);
  if (r2.state != sg::http::ParseState::kComplete || r2.consumed != out.size()) std::abort();
  if (again.framing != req.framing || again.content_length != req.content_length ||
      again.method != req.method || again.target != req.target || again.upgrade != req.upgrade) {
    std::abort();
  }
  return 0;
}
