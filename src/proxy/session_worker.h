// Path mode's per-session service worker (docs/decisions/0028): the router serves two scripts
// under <prefix><id>/__sessiongate/, adds a tag loading the first to the session's pages, and
// the worker it registers names the session on every request those pages make.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace sg::proxy::session_worker {

// The directory under a session's prefix that the router keeps for itself.
inline constexpr std::string_view kDir = "/__sessiongate/";

// The script at `rest` (the path after "<prefix><id>", starting with kDir), or empty when the
// router has no such file.
std::string_view file(std::string_view rest);

// What a page of session `id` gets near the top of its document.
std::string script_tag(std::string_view prefix, std::string_view id);

// True for a request that loads a document into a window or a frame: Sec-Fetch-Dest says so,
// or, from a browser that does not send it, a GET that prefers HTML.
bool is_navigation(const http::RequestHead& req, bool wants_html);

// Whether a response to a navigation can take the tag: a complete 200 HTML page, not encoded
// (the router asks for identity, but an upstream may compress anyway).
enum class PageFit : uint8_t { kFits, kNotAPage, kEncoded };
PageFit page_fit(const http::ResponseHead& res);

}  // namespace sg::proxy::session_worker
