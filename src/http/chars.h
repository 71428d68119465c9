// Character classes of RFC 9110 section 5.6, as lookup tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sg::http::chars {

// Letters, digits and `extra`.
constexpr std::array<bool, 256> alnum_and(std::string_view extra) {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : extra) t[static_cast<uint8_t>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTchar = alnum_and("!#$%&'*+-.^_`|~");
// Field names stop at '_' too: the parser rejects it (decision 0003) without a second pass.
constexpr std::array<bool, 256> make_name_char() {
  std::array<bool, 256> t = kTchar;
  t['_'] = false;
  return t;
}
inline constexpr std::array<bool, 256> kNameChar = make_name_char();

// Index of the first byte at or after `pos` that cannot be part of a field name (usually the
// colon), or buf.size(). Four bytes per bounds check: names are a third of a head's bytes.
inline size_t scan_name(std::string_view buf, size_t pos) {
  const char* d = buf.data();
  const size_t n = buf.size();
  auto ok = [d](size_t i) { return kNameChar[static_cast<uint8_t>(d[i])]; };
  while (pos + 4 <= n) {
    if (!ok(pos)) return pos;
    if (!ok(pos + 1)) return pos + 1;
    if (!ok(pos + 2)) return pos + 2;
    if (!ok(pos + 3)) return pos + 3;
    pos += 4;
  }
  while (pos < n && ok(pos)) ++pos;
  return pos;
}

// reg-name characters of a Host value: RFC 3986 unreserved (percent-encoding is not used in
// host names on the wire), and '_', which real host names carry.
inline constexpr std::array<bool, 256> kHostChar = alnum_and("-._~");

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
// Index of the first byte at or after `pos` that is not a field-value octet (usually the CR
// that ends the line), or buf.size(). Sixteen bytes per step where SSE2 is available: header
// values are most of a head's bytes.
inline size_t scan_field_value(std::string_view buf, size_t pos) {
#if defined(__SSE2__)
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i below_space = _mm_set1_epi8(static_cast<char>(0x20 ^ 0x80));
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7f);
  while (pos + 16 <= buf.size()) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf.data() + pos));
    // Unsigned v < 0x20 (by flipping the sign bit for a signed compare), except HTAB; or DEL.
    const __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab),
                                         _mm_cmplt_epi8(_mm_xor_si128(v, flip), below_space));
    const int mask = _mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, del)));
    if (mask != 0) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    pos += 16;
  }
#endif
  while (pos < buf.size() && is_field_char(buf[pos])) ++pos;
  return pos;
}

// Index of the first CR or LF at or after `pos` and before `limit` (<= buf.size()), or
// `limit`. Sixteen bytes per step where SSE2 is available.
inline size_t find_cr_or_lf(std::string_view buf, size_t pos, size_t limit) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (pos + 16 <= limit) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf.data() + pos));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (mask != 0) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    pos += 16;
  }
#endif
  while (pos < limit && buf[pos] != '\r' && buf[pos] != '\n') ++pos;
  return pos;
}

// Index of the first byte at or after `pos` that cannot be part of a request-target (a
// control, SP, DEL or non-ASCII octet), or buf.size().
inline size_t scan_target(std::string_view buf, size_t pos) {
#if defined(__SSE2__)
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i min = _mm_set1_epi8(static_cast<char>(0x21 ^ 0x80));
  const __m128i max = _mm_set1_epi8(static_cast<char>(0x7e ^ 0x80));
  while (pos + 16 <= buf.size()) {
    const __m128i v =
        _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(buf.data() + pos)), flip);
    // Unsigned compares by flipping the sign bit: below 0x21 or above 0x7e.
    const int mask =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, min), _mm_cmpgt_epi8(v, max)));
    if (mask != 0) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    pos += 16;
  }
#endif
  while (pos < buf.size() && buf[pos] > 0x20 && buf[pos] < 0x7f) ++pos;
  return pos;
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
