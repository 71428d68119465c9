// Host and path patterns of routing rules, ALB style.
//   host: case-insensitive; "*" stands for exactly one DNS label ("*.preview.example.com"),
//         a lone "*" (or an empty pattern) matches any host. The port is ignored.
//   path: case-sensitive; "*" matches any run of characters including "/", "?" one character.
#pragma once

#include <string>
#include <string_view>

namespace sg::routing {

bool match_host(std::string_view pattern, std::string_view host);
bool match_path(std::string_view pattern, std::string_view path);

// Host without port, as it appears in a Host header ("[::1]:80" -> "[::1]").
std::string_view host_without_port(std::string_view host);

// Why a pattern is unusable, or nullptr when it is fine. Used by config validation.
const char* check_host_pattern(std::string_view pattern);
const char* check_path_pattern(std::string_view pattern);

}  // namespace sg::routing
