// How a platform verifies that a wake or sleep call came from its router: an HMAC-SHA256 of
// "<timestamp>.<body>" under the shared secret (the timestamp bounds replays; the platform
// rejects calls older than a few minutes). Sent as
//   X-Sessiongate-Timestamp: <unix seconds>
//   X-Sessiongate-Signature: sha256=<hex>
#pragma once

#include <string>
#include <string_view>

namespace sg::lifecycle {

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The X-Sessiongate-Signature value for a body sent at `timestamp` (unix seconds).
std::string sign_body(std::string_view secret, long long timestamp, std::string_view body);

}  // namespace sg::lifecycle
