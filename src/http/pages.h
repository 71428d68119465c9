// Short error and status pages: HTML for browsers, JSON for API clients.
#pragma once

#include <string>
#include <string_view>

namespace sg::http {

struct Page {
  int status = 500;
  std::string_view code;     // machine-readable, e.g. "upstream_timeout"
  std::string_view title;    // one line for people
  std::string_view message;  // what happened and what to do
  std::string_view detail;   // optional precise reason (escaped on output)
  std::string_view session;  // the session concerned, when there is one
  int refresh = 0;           // > 0: the HTML page reloads itself after this many seconds
};

inline Page make_page(int status, std::string_view code, std::string_view title,
                      std::string_view message, std::string_view detail = {}) {
  Page p;
  p.status = status;
  p.code = code;
  p.title = title;
  p.message = message;
  p.detail = detail;
  return p;
}

// True when the client prefers HTML (a browser): Accept names text/html.
bool wants_html(std::string_view accept);

// Appends a complete HTTP/1.1 response carrying the page.
// `tmpl`, when given, replaces the built-in HTML: {{status}}, {{title}}, {{message}},
// {{detail}}, {{session}} and {{refresh_meta}} are substituted (HTML-escaped).
void render_page(const Page& page, bool html, bool close, std::string& out,
                 std::string_view extra_headers = {}, const std::string* tmpl = nullptr);

std::string_view status_text(int status);

void append_html_escaped(std::string& out, std::string_view s);
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace sg::http
