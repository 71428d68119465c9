// Finding the session id in a request: from the path ("/session/<id>/..."), from the host
// ("<id>.preview.example.com"), or by affinity (cookie / Referer) for root-level requests that
// dev servers make outside the prefix.
#pragma once

#include <string>
#include <string_view>

namespace sg::routing {

enum class IdResult { kFound, kAbsent, kInvalid, kAmbiguousPath };

// Rejects encoded or ambiguous paths: %2e, %2f, %5c (any case), backslash, "//", and "." or
// ".." segments. Such paths could route to one session and be read as another by a server.
bool ambiguous_path(std::string_view path);

// `prefix` is the rule's path pattern without its final '*', e.g. "/session/". On kFound,
// `id` is the segment after the prefix and `rest` is the path after the id (may be empty).
IdResult id_from_path(std::string_view path, std::string_view prefix, std::string_view& id,
                      std::string_view& rest);

// The first DNS label of the host (port ignored).
IdResult id_from_host(std::string_view host, std::string_view& id);

// Value of cookie `name` in a Cookie header, or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

// "/session/<id>/..." inside a Referer URL (absolute or path), or kAbsent.
IdResult id_from_referer(std::string_view referer, std::string_view prefix, std::string_view& id);

}  // namespace sg::routing
