// The PROXY protocol header, the first bytes a proxy_protocol listener reads from the network.
// Any input is decided or waits for more, never crashes; a decided header fits in the input, is
// decided the same way from exactly its own bytes, and every shorter prefix of a valid header
// asks for more (a header is never accepted or refused early by mistake).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/proxy_protocol.h"

using sg::net::ProxyHeader;
using sg::net::ProxyParse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ProxyHeader h;
  const char* why = nullptr;
  const ProxyParse r = sg::net::parse_proxy_header(in, h, why);
  if (r == ProxyParse::kInvalid && why == nullptr) std::abort();
  if (r != ProxyParse::kDone) return 0;
  if (h.length == 0 || h.length > in.size() || h.length > sg::net::kProxyHeaderMax) std::abort();
  if (h.has_source && h.source.is_v4() != h.destination.is_v4()) std::abort();
  ProxyHeader again;
  if (sg::net::parse_proxy_header(in.substr(0, h.length), again, why) != ProxyParse::kDone ||
      again.length != h.length || again.source != h.source) {
    std::abort();
  }
  for (size_t n = 0; n < h.length; ++n) {
    if (sg::net::parse_proxy_header(in.substr(0, n), again, why) != ProxyParse::kNeedMore) {
      std::abort();
    }
  }
  return 0;
}
