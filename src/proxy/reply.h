// Every answer the router makes itself — parse and framing errors, routing and container
// pages, upstream failures, limits, access decisions, configured fixed and redirect actions —
// is a ReplyKind. One table (reply.cc) gives each its status, outcome, page text, Retry-After
// and whether the connection must close; nothing else in the data plane picks a status.
//
// A Reply is a value (status, headers, body), not HTTP/1.1 bytes: each downstream codec
// serialises it in its own framing (append_http1 for HTTP/1.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "observe/metrics.h"

namespace sg::proxy {

enum class ReplyKind : uint8_t {
  // The request itself.
  kBadRequest,  // malformed head or body framing
  kRequestTimeout,
  kBodyTooLarge,
  kUriTooLong,
  kHeadersTooLarge,
  kNotImplemented,
  kVersionNotSupported,
  kExpectationFailed,
  kPlainHttpOnTls,  // a plain HTTP request on a TLS listener
  // Routing and the session's container.
  kNoRule,
  kBadSessionPath,     // encoded or ambiguous path, or an invalid session id
  kUnknownSession,     // no such session in the registry
  kContainerStarting,  // not registered yet, or starting
  kContainerDown,      // stopped, failed, or its lease ran out
  kWakeFailed,         // the platform did not start a sleeping container
  kHoldFull,           // too many requests already wait for containers to wake
  kWaitState,          // the starting page's long poll (X-Sessiongate-Wait): the state now
  // The upstream.
  kUpstreamRefused,    // connect failed
  kUpstreamForbidden,  // denied by the SSRF policy: never connected
  kUpstreamTimeout,    // connect or response head took too long
  kUpstreamBroken,     // closed or reset before a complete response head
  kUpstreamInvalid,    // a malformed response
  // Limits and shutdown.
  kOverloaded,          // the worker's connection limit
  kTooManyConnections,  // the per-client connection limit
  kRateLimited,         // the per-client request rate
  kShuttingDown,
  // Preview access.
  kForbidden,     // no valid preview link
  kLinkRedirect,  // a link exchanged for a cookie: redirect to the clean URL
  // Configured actions.
  kFixed,
  kRedirect,
  // Path mode's session worker (session_worker.h): its scripts, and any other name under its
  // directory.
  kWorkerScript,
  kWorkerFileMissing,
  kCount
};

// A failure on the data path: which answer it calls for and a precise reason. Values only;
// nothing on the data path throws.
struct Error {
  ReplyKind kind = ReplyKind::kBadRequest;
  const char* detail = "";  // static text, safe to show to the client
};

// How long a client should wait before trying again.
enum class RetryAfter : uint8_t {
  kNone,
  kOneSecond,
  kStarting,  // sessions.starting_retry_after; the HTML page also refreshes itself
  // A server that may be back in a moment (a dev server restarting, a container coming back):
  // Retry-After and, on the HTML page, a reload link; never an automatic reload, which
  // would loop for good on a server that stays down.
  kReload,
};

struct ReplySpec {
  int status;  // 0 for the configured actions, whose status comes from the rule
  observe::Outcome outcome;
  std::string_view code;  // machine-readable, the JSON `error` and the page template name
  std::string_view title;
  std::string_view message;
  RetryAfter retry;
  bool close;  // the connection cannot be trusted afterwards (framing, upstream failure)
  bool html;   // a browser may get HTML (false: always JSON, e.g. answers made at accept)
};

const ReplySpec& spec(ReplyKind k);

// Which answer a parse error calls for, by the status the parser chose.
ReplyKind reply_for_parse_status(int status);

// What varies from one reply of a kind to the next.
struct ReplyInput {
  std::string_view detail;
  std::string_view session;
  bool html = false;  // the client prefers HTML (Accept: text/html)
  int starting_retry_after = 2;
  const std::unordered_map<std::string, std::string>* templates = nullptr;  // name -> HTML
  // Configured actions and the link exchange.
  int status = 0;                 // kFixed, kRedirect
  std::string_view page;          // kFixed: a page name (or empty)
  std::string_view body;          // kFixed: a literal body (then no page)
  std::string_view content_type;  // of `body`
  std::string_view location;      // kRedirect, kLinkRedirect
  std::string_view worker_scope;  // kWorkerScript: the scope the worker may control
  std::string_view set_cookie;    // kLinkRedirect: the Set-Cookie value
  // The starting page and its long poll: what the wait is at (waking, starting, waiting;
  // ready for the poll; the poll's words are the detail), the request id to show, and whether
  // the page waits live.
  std::string_view state;
  std::string_view request_id;
  bool live = false;
};

inline ReplyInput with_detail(std::string_view detail) {
  ReplyInput in;
  in.detail = detail;
  return in;
}

struct Reply {
  int status = 500;
  observe::Outcome outcome = observe::Outcome::k_bad_request;
  bool close = false;  // must close after it, whatever the request asked for
  std::vector<std::pair<std::string_view, std::string>> headers;  // Content-Type first
  std::string body;
};

Reply make_reply(ReplyKind k, const ReplyInput& in);

// HTTP/1.1: status line, the reply's headers, Content-Length, `Connection: close` when
// `close`; the body unless `head_only` (a HEAD request). `extra`: complete header lines the
// connection adds to every response (Strict-Transport-Security).
void append_http1(const Reply& r, bool close, bool head_only, std::string& out,
                  std::string_view extra = {});

}  // namespace sg::proxy
