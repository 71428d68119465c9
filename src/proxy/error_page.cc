#include "proxy/error_page.h"

namespace sg::proxy {

http::Page error_page(const Error& e) {
  http::Page p;
  p.detail = e.detail;
  switch (e.kind) {
    case ErrorKind::kBadRequest:
      p = http::make_page(400, "bad_request", "Bad request",
                          "The request could not be understood by the proxy.", e.detail);
      break;
    case ErrorKind::kRequestTimeout:
      p = http::make_page(408, "request_timeout", "Request timeout",
                          "The request was not received in time. Please try again.", e.detail);
      break;
    case ErrorKind::kBodyTooLarge:
      p = http::make_page(413, "body_too_large", "Request body too large",
                          "The request body is larger than this proxy accepts.", e.detail);
      break;
    case ErrorKind::kUriTooLong:
      p = http::make_page(414, "uri_too_long", "Address too long",
                          "The request line is longer than this proxy accepts.", e.detail);
      break;
    case ErrorKind::kHeadersTooLarge:
      p = http::make_page(
          431, "headers_too_large", "Request headers too large",
          "The request headers are larger than this proxy accepts. Clearing cookies for this "
          "site may help.",
          e.detail);
      break;
    case ErrorKind::kNotImplemented:
      p = http::make_page(501, "not_implemented", "Not implemented",
                          "The request uses a feature this proxy does not support.", e.detail);
      break;
    case ErrorKind::kVersionNotSupported:
      p = http::make_page(505, "version_not_supported", "HTTP version not supported",
                          "Only HTTP/1.0 and HTTP/1.1 are spoken here.", e.detail);
      break;
    case ErrorKind::kExpectationFailed:
      p = http::make_page(417, "expectation_failed", "Expectation failed",
                          "Only 'Expect: 100-continue' is supported.", e.detail);
      break;
    case ErrorKind::kNoRule:
      p = http::make_page(
          404, "no_rule", "Nothing is served here",
          "No routing rule matches this host and path. Check the address you opened.", e.detail);
      break;
    case ErrorKind::kBadSessionPath:
      p = http::make_page(
          400, "bad_session_path", "Bad preview address",
          "This preview address is malformed (encoded or ambiguous path, or an invalid session "
          "id). Session ids use letters, digits, '-' and '_'.",
          e.detail);
      break;
    case ErrorKind::kUnknownSession:
      p = http::make_page(
          404, "unknown_session", "Preview not found",
          "There is no preview session with this id. Check that the link is complete and that "
          "the session has not expired; starting a new chat creates a new preview.",
          e.detail);
      break;
    case ErrorKind::kContainerStarting:
      p = http::make_page(
          503, "starting", "Your preview is starting",
          "The dev server for this session is starting. This page reloads by itself and turns "
          "into your preview as soon as it is ready.",
          e.detail);
      break;
    case ErrorKind::kContainerDown:
      p = http::make_page(
          503, "unavailable", "Preview unavailable",
          "The dev server for this session is not running right now. It may have been stopped "
          "or stopped responding; try again in a moment, or restart it from your workspace.",
          e.detail);
      break;
    case ErrorKind::kUpstreamRefused:
      p = http::make_page(
          502, "upstream_refused", "The server is not reachable",
          "The proxy could not connect to the server behind this address. It may be restarting; "
          "try again in a moment.",
          e.detail);
      break;
    case ErrorKind::kUpstreamForbidden:
      p = http::make_page(502, "upstream_forbidden", "The server is not reachable",
                          "This preview's container address is not allowed by the router's policy.",
                          e.detail);
      break;
    case ErrorKind::kUpstreamBroken:
      p = http::make_page(502, "upstream_unavailable", "The server closed the connection",
                          "The server behind this address closed the connection before answering.",
                          e.detail);
      break;
    case ErrorKind::kUpstreamInvalid:
      p = http::make_page(502, "upstream_invalid", "The server sent an invalid response",
                          "The server behind this address answered with a malformed response.",
                          e.detail);
      break;
    case ErrorKind::kUpstreamTimeout:
      p = http::make_page(504, "upstream_timeout", "The server took too long",
                          "The server behind this address did not answer in time.", e.detail);
      break;
    case ErrorKind::kOverloaded:
      p = http::make_page(503, "overloaded", "Too busy",
                          "The proxy is at capacity. Try again shortly.", e.detail);
      break;
    case ErrorKind::kShuttingDown:
      p = http::make_page(503, "shutting_down", "Restarting",
                          "The proxy is restarting. Try again shortly.", e.detail);
      break;
  }
  return p;
}

Error error_from_parse(const http::ParseError& e) {
  ErrorKind kind = ErrorKind::kBadRequest;
  switch (e.status) {
    case 408:
      kind = ErrorKind::kRequestTimeout;
      break;
    case 413:
      kind = ErrorKind::kBodyTooLarge;
      break;
    case 414:
      kind = ErrorKind::kUriTooLong;
      break;
    case 417:
      kind = ErrorKind::kExpectationFailed;
      break;
    case 431:
      kind = ErrorKind::kHeadersTooLarge;
      break;
    case 501:
      kind = ErrorKind::kNotImplemented;
      break;
    case 505:
      kind = ErrorKind::kVersionNotSupported;
      break;
    default:
      break;
  }
  return {kind, Side::kDownstream, false, e.reason ? e.reason : ""};
}

}  // namespace sg::proxy
