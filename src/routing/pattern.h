// Host and path patterns of routing rules, ALB style.
//   host: case-insensitive; "*" stands for exactly one DNS label ("*.preview.example.com"),
//         a lone "*" (or an empty pattern) matches any host. The port is ignored.
//   path: case-sensitive; "*" matches any run of characters including "/", "?" one character.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg::routing {

bool match_host(std::string_view pattern, std::string_view host);

// A Host value as host patterns see it: no port, no trailing dot of the FQDN form.
std::string_view bare_host(std::string_view host);
std::string_view without_fqdn_dot(std::string_view host_no_port);

// A host pattern prepared once. "*.literal.suffix" (the common preview-domain form) is matched
// with one suffix compare and one search for a dot; other patterns with the general glob.
class HostPattern {
 public:
  HostPattern() = default;
  explicit HostPattern(std::string_view pattern);
  // `bare` as returned by bare_host().
  bool matches(std::string_view bare) const;

 private:
  enum class Kind : uint8_t { kAny, kOneLabelThenSuffix, kGlob };
  Kind kind_ = Kind::kAny;
  std::string text_;  // the pattern (kGlob) or the suffix from its first dot (kOneLabelThenSuffix)
};
bool match_path(std::string_view pattern, std::string_view path);

// Host without port, as it appears in a Host header ("[::1]:80" -> "[::1]").
std::string_view host_without_port(std::string_view host);

// Why a pattern is unusable, or nullptr when it is fine. Used by config validation.
const char* check_host_pattern(std::string_view pattern);
const char* check_path_pattern(std::string_view pattern);

}  // namespace sg::routing
