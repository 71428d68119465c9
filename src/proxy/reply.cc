#include "proxy/reply.h"

#include <array>

#include "http/pages.h"

namespace sg::proxy {

namespace {

using observe::Outcome;
using R = RetryAfter;

constexpr size_t kKinds = static_cast<size_t>(ReplyKind::kCount);

// The table: one row per kind, in ReplyKind order (checked below).
constexpr std::array<ReplySpec, kKinds> kSpecs{{
    {400, Outcome::k_bad_request, "bad_request", "Bad request",
     "The request could not be understood by the proxy.", R::kNone, true, true},
    {408, Outcome::k_bad_request, "request_timeout", "Request timeout",
     "The request was not received in time. Please try again.", R::kNone, true, true},
    {413, Outcome::k_bad_request, "body_too_large", "Request body too large",
     "The request body is larger than this proxy accepts.", R::kNone, true, true},
    {414, Outcome::k_bad_request, "uri_too_long", "Address too long",
     "The request line is longer than this proxy accepts.", R::kNone, true, true},
    {431, Outcome::k_bad_request, "headers_too_large", "Request headers too large",
     "The request headers are larger than this proxy accepts. Clearing cookies for this site "
     "may help.",
     R::kNone, true, true},
    {501, Outcome::k_bad_request, "not_implemented", "Not implemented",
     "The request uses a feature this proxy does not support.", R::kNone, true, true},
    {505, Outcome::k_bad_request, "version_not_supported", "HTTP version not supported",
     "Only HTTP/1.0 and HTTP/1.1 are spoken here.", R::kNone, true, true},
    {417, Outcome::k_bad_request, "expectation_failed", "Expectation failed",
     "Only 'Expect: 100-continue' is supported.", R::kNone, true, true},
    {400, Outcome::k_bad_request, "plain_http_on_tls", "Plain HTTP sent to the HTTPS port",
     "This port speaks HTTPS: the plain HTTP request was sent to the HTTPS port. Use an https:// "
     "address.",
     R::kNone, true, false},
    {404, Outcome::k_no_rule, "no_rule", "Nothing is served here",
     "No routing rule matches this host and path. Check the address you opened.", R::kNone, false,
     true},
    {400, Outcome::k_bad_request, "bad_session_path", "Bad preview address",
     "This preview address is malformed (encoded or ambiguous path, or an invalid session id). "
     "Session ids use letters, digits, '-' and '_'.",
     R::kNone, false, true},
    {404, Outcome::k_unknown_session, "unknown_session", "Preview not found",
     "There is no preview session with this id. Check that the link is complete and that the "
     "session has not expired; starting a new chat creates a new preview.",
     R::kNone, false, true},
    {503, Outcome::k_starting, "starting", "Your preview is starting",
     "The dev server for this session is starting. Your preview opens here as soon as it is "
     "ready.",
     R::kStarting, false, true},
    {503, Outcome::k_unavailable, "unavailable", "Preview unavailable",
     "The dev server for this session is not running right now. It may have been stopped or "
     "stopped responding; try again in a moment, or restart it from your workspace.",
     R::kReload, false, true},
    {503, Outcome::k_wake_failed, "wake_failed", "This preview could not be started",
     "The platform did not start the dev server for this session. Try again in a moment; if it "
     "keeps happening, restart the preview from your workspace.",
     R::kOneSecond, false, true},
    {503, Outcome::k_rate_limited, "hold_full", "Too many previews starting",
     "Too many requests are already waiting for previews to start. Try again in a moment.",
     R::kOneSecond, false, true},
    {200, Outcome::k_starting, "wait_state", "Waiting", "Where the preview's start is.", R::kNone,
     false, false},
    {502, Outcome::k_upstream_refused, "upstream_refused", "The server is not reachable",
     "The proxy could not connect to the server behind this address. It may be restarting; try "
     "again in a moment.",
     R::kReload, true, true},
    {502, Outcome::k_upstream_refused, "upstream_forbidden", "The server is not reachable",
     "This preview's container address is not allowed by the router's policy.", R::kNone, true,
     true},
    {504, Outcome::k_upstream_timeout, "upstream_timeout", "The server took too long",
     "The server behind this address did not answer in time.", R::kReload, true, true},
    {502, Outcome::k_upstream_invalid, "upstream_unavailable", "The server closed the connection",
     "The server behind this address closed the connection before answering.", R::kReload, true,
     true},
    {502, Outcome::k_upstream_invalid, "upstream_invalid", "The server sent an invalid response",
     "The server behind this address answered with a malformed response.", R::kNone, true, true},
    {503, Outcome::k_rate_limited, "overloaded", "Too busy",
     "The proxy is at capacity. Try again shortly.", R::kOneSecond, true, false},
    {429, Outcome::k_rate_limited, "too_many_connections", "Too many connections",
     "This address has too many open connections. Close some tabs or wait a moment.", R::kOneSecond,
     true, false},
    {429, Outcome::k_rate_limited, "rate_limited", "Too many requests",
     "This address sent too many requests. Wait a moment and try again.", R::kOneSecond, false,
     true},
    {503, Outcome::k_unavailable, "shutting_down", "Restarting",
     "The proxy is restarting. Try again shortly.", R::kNone, true, true},
    {403, Outcome::k_forbidden, "forbidden", "This preview is private",
     "Open it through the preview link you were given (links expire), or ask its owner for a "
     "new one.",
     R::kNone, false, true},
    {302, Outcome::k_redirect, "redirect", "Found", "Opening your preview.", R::kNone, false, true},
    {0, Outcome::k_fixed, "fixed", "", "This address has no content.", R::kNone, false, true},
    {0, Outcome::k_redirect, "redirect", "", "This page has moved.", R::kNone, false, true},
    {200, Outcome::k_fixed, "worker_script", "Session worker", "A script of the session worker.",
     R::kNone, false, false},
    {404, Outcome::k_no_rule, "worker_file_missing", "Not found",
     "The router keeps this directory for its own scripts; there is no such file in it.", R::kNone,
     false, true},
}};

// Spot checks that the rows did not shift against the enum (the unit test checks every row).
static_assert(kSpecs[static_cast<size_t>(ReplyKind::kExpectationFailed)].status == 417 &&
                  kSpecs[static_cast<size_t>(ReplyKind::kContainerStarting)].retry ==
                      R::kStarting &&
                  kSpecs[static_cast<size_t>(ReplyKind::kUpstreamTimeout)].status == 504 &&
                  kSpecs[static_cast<size_t>(ReplyKind::kWakeFailed)].outcome ==
                      Outcome::k_wake_failed &&
                  kSpecs[static_cast<size_t>(ReplyKind::kRateLimited)].status == 429 &&
                  kSpecs[static_cast<size_t>(ReplyKind::kForbidden)].status == 403 &&
                  kSpecs[static_cast<size_t>(ReplyKind::kRedirect)].outcome == Outcome::k_redirect,
              "kSpecs rows must follow ReplyKind");

// Seconds a client waits before asking again a server that may be restarting: a dev server's
// restart takes about that long.
constexpr int kReloadRetryAfter = 2;

constexpr std::string_view kEditHelpTitle = "Nothing to preview here";
constexpr std::string_view kEditHelpMessage =
    "This is the editor address. A preview lives under /session/<thread id>/ on this host; open "
    "it from your workspace, or check that the link you followed is complete.";

}  // namespace

const ReplySpec& spec(ReplyKind k) {
  return kSpecs[static_cast<size_t>(k)];
}

ReplyKind reply_for_parse_status(int status) {
  switch (status) {
    case 408:
      return ReplyKind::kRequestTimeout;
    case 413:
      return ReplyKind::kBodyTooLarge;
    case 414:
      return ReplyKind::kUriTooLong;
    case 417:
      return ReplyKind::kExpectationFailed;
    case 431:
      return ReplyKind::kHeadersTooLarge;
    case 501:
      return ReplyKind::kNotImplemented;
    case 505:
      return ReplyKind::kVersionNotSupported;
    default:
      return ReplyKind::kBadRequest;
  }
}

Reply make_reply(ReplyKind k, const ReplyInput& in) {
  const ReplySpec& s = spec(k);
  Reply r;
  r.status = s.status != 0 ? s.status : in.status;
  r.outcome = s.outcome;
  r.close = s.close;
  if (k == ReplyKind::kWaitState) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.body = "{\"state\":\"";
    http::append_json_escaped(r.body, in.state);
    if (!in.detail.empty()) {
      r.body += "\",\"text\":\"";
      http::append_json_escaped(r.body, in.detail);
    }
    r.body += "\"}\n";
    return r;
  }
  if (k == ReplyKind::kWorkerScript) {
    // Revalidated on every registration check, so a new router's worker replaces the old.
    r.headers.emplace_back("Content-Type", "text/javascript; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-cache");
    if (!in.worker_scope.empty()) {
      r.headers.emplace_back("Service-Worker-Allowed", std::string(in.worker_scope));
    }
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.body.assign(in.body);
    return r;
  }
  if (k == ReplyKind::kFixed && !in.body.empty()) {
    r.headers.emplace_back("Content-Type", in.content_type);
    r.body.assign(in.body);
    return r;
  }
  http::Page page = http::make_page(r.status, s.code, s.title, s.message, in.detail);
  page.session = in.session;
  page.state = in.state;
  page.request_id = in.request_id;
  page.live = in.live;
  if (s.status == 0) page.title = http::status_text(r.status);
  if (k == ReplyKind::kFixed) {
    if (!in.page.empty()) page.code = in.page;
    if (in.page == "edit-help") {
      page.title = kEditHelpTitle;
      page.message = kEditHelpMessage;
    }
  }
  if (k == ReplyKind::kRedirect || k == ReplyKind::kLinkRedirect) page.detail = in.location;
  const bool html = s.html && in.html;
  const std::string* tmpl = nullptr;
  if (html && in.templates && !in.templates->empty()) {
    auto it = in.templates->find(std::string(page.code));
    if (it != in.templates->end()) tmpl = &it->second;
  }
  switch (s.retry) {
    case R::kNone:
      break;
    case R::kOneSecond:
      page.retry_after = 1;
      break;
    case R::kStarting:
      page.refresh = page.retry_after = in.starting_retry_after;
      break;
    case R::kReload:
      page.retry_after = kReloadRetryAfter;
      page.offer_reload = true;
      break;
  }
  if (page.retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(page.retry_after));
  if (!in.location.empty()) r.headers.emplace_back("Location", std::string(in.location));
  if (!in.request_id.empty()) r.headers.emplace_back("X-Request-Id", std::string(in.request_id));
  if (!in.set_cookie.empty()) r.headers.emplace_back("Set-Cookie", std::string(in.set_cookie));
  // A session's worker asks the router for the session's files; this tells it to unregister.
  if (k == ReplyKind::kUnknownSession)
    r.headers.emplace_back("X-Sessiongate-Error", "unknown_session");
  page.forget_worker = k == ReplyKind::kUnknownSession;
  http::render_page_body(page, html, tmpl, r.body);
  r.headers.insert(r.headers.begin(), {{"Content-Type", std::string(http::page_content_type(html))},
                                       {"Cache-Control", "no-store"}});
  return r;
}

void append_http1(const Reply& r, bool close, bool head_only, std::string& out,
                  std::string_view extra) {
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += http::status_text(r.status);
  out += "\r\n";
  // Content-Type and Cache-Control come first, then the length, then the rest.
  size_t i = 0;
  for (; i < r.headers.size() &&
         (r.headers[i].first == "Content-Type" || r.headers[i].first == "Cache-Control");
       ++i) {
    out.append(r.headers[i].first).append(": ").append(r.headers[i].second).append("\r\n");
  }
  out += "Content-Length: ";
  out += std::to_string(r.body.size());
  out += "\r\n";
  for (; i < r.headers.size(); ++i) {
    out.append(r.headers[i].first).append(": ").append(r.headers[i].second).append("\r\n");
  }
  out += extra;
  if (close || r.close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += r.body;
}

}  // namespace sg::proxy
