// What the Redis store reads from the network: change messages from the channel, hash
// replies' field maps and redis:// URLs. Any input yields a value or a reason, never a crash;
// a decoded change is well-formed (valid id, non-zero version, record for puts).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "registry/redis_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  auto c = sg::registry::decode_change(text, why);
  if (c) {
    using K = sg::registry::Change::Kind;
    if (c->version == 0 || !sg::registry::valid_id(c->id)) std::abort();
    if (c->kind == K::kContainerPut && !c->container) std::abort();
    if (c->kind == K::kSessionPut && !c->session) std::abort();
  } else if (why.empty()) {
    std::abort();
  }
  sg::registry::RedisEndpoint ep;
  why.clear();
  if (sg::registry::parse_redis_url(text, ep, why)) {
    if (ep.host.empty() || ep.port < 1 || ep.port > 65535 || ep.db < 0) std::abort();
  } else if (why.empty()) {
    std::abort();
  }
  return 0;
}
