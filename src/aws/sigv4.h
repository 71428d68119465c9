// AWS Signature Version 4 for one HTTP request (header signing, not presigned URLs). Pure:
// no clock, no I/O; the caller passes the time. Tested against the published test-suite
// vectors (tests/unit/sigv4_test.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
  int64_t expires_at_ms = 0;  // 0 = does not expire
  std::string source;         // where they came from, for logs ("environment", "profile x", ...)
  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
};

struct SigningInput {
  std::string method;  // "POST"
  std::string path;    // the request target's path as sent, "/" when empty
  std::string query;   // raw query string without '?', "" when none
  std::vector<std::pair<std::string, std::string>> headers;  // every header to sign (host too)
  std::string_view payload;
  std::string region;
  std::string service;
  std::string amz_date;  // "20150830T123600Z"
};

// "YYYYMMDDTHHMMSSZ" for a Unix time in seconds.
std::string amz_date(int64_t unix_seconds);

std::string sha256_hex(std::string_view data);

// The steps, exposed for the test vectors: canonical request, string to sign, signature.
std::string canonical_request(const SigningInput& in);
std::string string_to_sign(const SigningInput& in, const std::string& canonical);
std::string signature(const SigningInput& in, std::string_view secret_access_key);

// The Authorization header's value for `in` (which must already carry x-amz-date and, for
// temporary credentials, x-amz-security-token among its headers).
std::string authorization(const SigningInput& in, const Credentials& creds);

}  // namespace sg::aws
