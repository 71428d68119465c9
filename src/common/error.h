// One error type for the data path: what failed, on which side, and whether a retry is safe.
// Errors are values; nothing on the data path throws.
#pragma once

#include <cstdint>

namespace sg {

enum class ErrorKind : uint8_t {
  kBadRequest,      // malformed or refused request head/body framing
  kRequestTimeout,  // the client was too slow sending its head or body
  kBodyTooLarge,
  kUriTooLong,
  kHeadersTooLarge,
  kNotImplemented,
  kVersionNotSupported,
  kExpectationFailed,
  kNoRule,             // no routing rule matched
  kBadSessionPath,     // encoded or ambiguous path, or an invalid session id
  kUnknownSession,     // no such session in the registry
  kContainerStarting,  // the session's container is not ready yet (or not registered)
  kContainerDown,      // stopped, failed, or its lease ran out
  kUpstreamRefused,    // connect failed
  kUpstreamForbidden,  // the address is denied by the SSRF policy: never connected
  kUpstreamTimeout,    // connect or response head took too long
  kUpstreamBroken,     // the upstream closed or reset before a complete response head
  kUpstreamInvalid,    // the upstream sent a malformed response
  kOverloaded,         // connection limit reached
  kShuttingDown,
};

enum class Side : uint8_t { kDownstream, kUpstream, kInternal };

struct Error {
  ErrorKind kind = ErrorKind::kBadRequest;
  Side side = Side::kInternal;
  bool retryable = false;
  const char* detail = "";  // static text, safe to show to the client
};

}  // namespace sg
