// Short error and status pages: HTML for browsers, JSON for API clients.
#pragma once

#include <string>
#include <string_view>

namespace sg::http {

struct Page {
  int status = 500;
  std::string_view code;      // machine-readable, e.g. "upstream_timeout"
  std::string_view title;     // one line for people
  std::string_view message;   // what happened and what to do
  std::string_view detail;    // optional precise reason (escaped on output)
  std::string_view session;   // the session concerned, when there is one
  int refresh = 0;            // > 0: the HTML page reloads itself after this many seconds
  int retry_after = 0;        // > 0: when to ask again, in seconds (JSON `retry_after_ms`)
  bool offer_reload = false;  // the HTML page has a link that loads it again
  // A page that waits for something (the starting page): its state code (JSON `state`, with
  // `retry_after_ms` from `refresh`) and the request id JSON clients can quote.
  std::string_view state;
  std::string_view request_id;
  // The HTML page waits on the router (a long poll of its own URL with X-Sessiongate-Wait) and
  // reloads the moment the state is ready, showing the time waited; without JavaScript it
  // falls back to reloading every `refresh` seconds.
  bool live = false;
  // The HTML page unregisters the router's service worker for its address, if one is
  // registered (the session it named is gone); an app's own worker is left alone.
  bool forget_worker = false;
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

// Appends the page's body: HTML for a browser, JSON otherwise. `tmpl`, when given, replaces
// the built-in HTML: {{status}}, {{title}}, {{message}}, {{detail}}, {{session}} and
// {{refresh_meta}} are substituted (HTML-escaped). The status line and headers are the
// codec's (see proxy/reply.h).
void render_page_body(const Page& page, bool html, const std::string* tmpl, std::string& body);
std::string_view page_content_type(bool html);

std::string_view status_text(int status);

void append_html_escaped(std::string& out, std::string_view s);
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace sg::http
