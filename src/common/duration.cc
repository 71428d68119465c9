#include "common/duration.h"

#include <limits>

namespace sg {

namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};

bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

}  // namespace

bool parse_duration_ms(std::string_view s, int64_t& out, std::string* why) {
  size_t i = 0;
  int64_t whole = 0;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (whole > (kMax - (s[i] - '0')) / 10) return fail(why, "too large");
    whole = whole * 10 + (s[i] - '0');
    ++i;
  }
  if (i == 0) return fail(why, "expected a number and a unit (ms, s, m, h, d), e.g. 30s");
  // The fraction is kept as digits over a power of ten; at most 9 digits (nanoseconds).
  int64_t frac = 0, scale = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start >= 9) return fail(why, "at most 9 digits after the decimal point");
      frac = frac * 10 + (s[i] - '0');
      scale *= 10;
      ++i;
    }
    if (i == start) return fail(why, "expected digits after the decimal point");
  }
  const std::string_view unit = s.substr(i);
  if (unit.empty()) return fail(why, "a unit is required (ms, s, m, h or d), e.g. 30s");
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    if (whole > kMax / u.ms) return fail(why, "too large");
    const int64_t part = frac * u.ms;  // frac < 1e9 and u.ms <= 8.64e7: no overflow
    if (part % scale != 0) return fail(why, "not a whole number of milliseconds");
    if (whole * u.ms > kMax - part / scale) return fail(why, "too large");
    out = whole * u.ms + part / scale;
    return true;
  }
  return fail(why, "unknown unit '" + std::string(unit) + "' (use ms, s, m, h or d)");
}

std::string format_duration_ms(int64_t v) {
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (it->ms > 1 && v != 0 && v % it->ms == 0)
      return std::to_string(v / it->ms) + std::string(it->name);
  }
  return std::to_string(v) + "ms";
}

}  // namespace sg
