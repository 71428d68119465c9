// Where AWS credentials come from, in the order the AWS SDKs look: environment variables,
// the shared credentials and config files (a named profile), the ECS container-credentials
// endpoint, EC2 instance metadata (IMDSv2). Temporary credentials are cached and fetched
// again five minutes before they expire; until then, and while a refresh fails but the
// cached ones still hold, calls use the cache.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "aws/sigv4.h"

namespace sg::aws {

using Getenv = std::function<const char*(const char*)>;

// A profile's keys from the shared files' text (the credentials file first, then the config
// file, where sections are "[profile name]" except "[default]"). False with `error` when the
// profile is absent or uses a source sessiongate does not support (role_arn, sso_*,
// credential_process), or lacks a key.
bool profile_credentials(std::string_view credentials_file, std::string_view config_file,
                         const std::string& profile, Credentials& out, std::string& error);

// {AccessKeyId, SecretAccessKey, Token, Expiration} as the ECS endpoint and IMDS answer.
bool parse_credential_json(std::string_view body, Credentials& out, std::string& error);

// "2026-12-02T20:00:00Z" (fractional seconds allowed) to ms since the epoch; -1 when invalid.
int64_t parse_iso8601_ms(std::string_view text);

class CredentialChain {
 public:
  // `profile`: the shared-files profile to use ("" = AWS_PROFILE, else "default").
  explicit CredentialChain(std::string profile = "", Getenv env = nullptr);

  // Credentials to sign with now. Thread-safe; a fetch from an endpoint happens under the
  // lock (rare: at start and before expiry), so concurrent callers wait for that one fetch.
  bool get(Credentials& out, std::string& error);

 private:
  bool resolve(Credentials& out, std::string& error);
  bool from_env(Credentials& out);
  // 1 = found, 0 = not configured here, -1 = configured but failed (error set).
  int from_files(Credentials& out, std::string& error);
  int from_container_endpoint(Credentials& out, std::string& error);
  int from_instance_metadata(Credentials& out, std::string& error);
  const char* env(const char* name) const;

  std::string profile_;
  Getenv env_;
  std::mutex mu_;
  Credentials cached_;
  bool have_ = false;
  // After a failed look, the next waits a moment: off EC2 the metadata address may take its
  // whole connect timeout to fail, and every store call asks for credentials.
  int64_t retry_at_ms_ = 0;
  std::string last_error_;
};

}  // namespace sg::aws
