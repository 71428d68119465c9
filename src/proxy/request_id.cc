#include "proxy/request_id.h"

#include <openssl/rand.h>

namespace sg::proxy {

namespace {

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool valid_traceparent(std::string_view v) {
  // Version 00 is exactly 55 characters; a later version may append fields after a '-'.
  if (v.size() < 55 || (v.size() > 55 && v[55] != '-')) return false;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const std::string_view version = v.substr(0, 2), trace = v.substr(3, 32),
                         parent = v.substr(36, 16), flags = v.substr(53, 2);
  if (!lower_hex(version) || version == "ff" || (version == "00" && v.size() != 55)) return false;
  if (!lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags)) return false;
  return trace != std::string_view("00000000000000000000000000000000") &&
         parent != std::string_view("0000000000000000");
}

RequestIds::RequestIds() {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed_), sizeof seed_) != 1) {
    seed_ = reinterpret_cast<uintptr_t>(this) ^ 0x9e3779b97f4a7c15ULL;
  }
}

void RequestIds::next(ShortText<64>& out) {
  // splitmix64's finaliser: a bijection, so distinct inputs never collide.
  uint64_t z = seed_ + 0x9e3779b97f4a7c15ULL * ++count_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out.text[i] = kHex[z & 15];
    z >>= 4;
  }
  out.size = 16;
}

}  // namespace sg::proxy
