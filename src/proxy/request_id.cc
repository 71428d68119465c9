#include "proxy/request_id.h"

#include <openssl/rand.h>

#include <array>

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

void RequestId::assign(std::string_view id) {
  char* p = line.text;
  std::memcpy(p, kName.data(), kName.size());
  p += kName.size();
  std::memcpy(p, id.data(), id.size());
  p += id.size();
  *p++ = '\r';
  *p++ = '\n';
  line.size = static_cast<uint8_t>(p - line.text);
}

void RequestIds::next(RequestId& out) {
  // splitmix64's finaliser: a bijection, so distinct inputs never collide.
  uint64_t z = seed_ + 0x9e3779b97f4a7c15ULL * ++count_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  // Two hex digits per step, from a table of all 256 byte values.
  static constexpr auto kPairs = [] {
    std::array<char, 512> t{};
    constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
      t[2 * i] = kHex[i >> 4];
      t[2 * i + 1] = kHex[i & 15];
    }
    return t;
  }();
  char id[16];
  for (int i = 7; i >= 0; --i) {
    std::memcpy(id + 2 * i, &kPairs[2 * (z & 0xff)], 2);
    z >>= 8;
  }
  out.assign({id, sizeof id});
}

}  // namespace sg::proxy
