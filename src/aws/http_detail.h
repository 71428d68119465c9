// What the HTTP client's files share: limits, text helpers, the clock, OpenSSL's last error.
// Internal to src/aws/.
#pragma once

#include <openssl/err.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sg::aws::detail {

inline constexpr size_t kMaxHead = 64 * 1024;
// DynamoDB pages are at most 1 MB of items (16 MB for a batch read); JSON adds its overhead.
inline constexpr size_t kMaxBody = 64 * 1024 * 1024;

inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string tls_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "tls error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

inline bool parse_size(std::string_view t, size_t& out, int base = 10) {
  if (t.empty()) return false;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out, base);
  return ec == std::errc() && end == t.data() + t.size();
}

inline std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

}  // namespace sg::aws::detail
