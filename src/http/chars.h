// Character classes of RFC 9110 section 5.6, as lookup tables.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sg::http::chars {

constexpr std::array<bool, 256> make_tchar() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<uint8_t>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTchar = make_tchar();

// field-value octets: VCHAR, SP, HTAB, obs-text. Never NUL, CR, LF or other controls.
constexpr std::array<bool, 256> make_field_vchar() {
  std::array<bool, 256> t{};
  t['\t'] = true;
  for (int c = 0x20; c <= 0x7e; ++c) t[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = true;
  return t;
}
inline constexpr std::array<bool, 256> kFieldChar = make_field_vchar();

inline bool is_tchar(char c) {
  return kTchar[static_cast<uint8_t>(c)];
}
inline bool is_field_char(char c) {
  return kFieldChar[static_cast<uint8_t>(c)];
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace sg::http::chars
