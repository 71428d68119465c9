// The one duration grammar of the configuration file, the admin API and the CLI: a number,
// optionally with a decimal fraction, and a unit — ms, s, m, h or d ("250ms", "1.5s", "30m",
// "1d"). The value must come to a whole number of milliseconds and fit in 64 bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg {

// Milliseconds in `text`, or false (then `why`, when given, says what is wrong with it).
bool parse_duration_ms(std::string_view text, int64_t& out, std::string* why = nullptr);

// Shortest exact text: "2h", "90s", "1500ms".
std::string format_duration_ms(int64_t ms);

}  // namespace sg
