// DynamoDB's JSON protocol (x-amz-json-1.0): one signed POST per action over a keep-alive
// pool, retried with exponential backoff and full jitter on throttling, 5xx and transport
// failures. While the service cannot be reached, calls fail at once between attempts (100 ms
// doubling to 5 s) instead of each waiting out its timeouts. Blocking: store threads only.
#pragma once

#include <array>
#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http_client.h"

namespace sg::aws {

struct DynamoSettings {
  std::string region = "us-east-1";
  Endpoint endpoint;  // https://dynamodb.<region>.amazonaws.com unless configured
  HttpTimeouts timeouts{1000, 3000};
  int max_attempts = 4;
  int64_t backoff_base_ms = 50;
  int64_t backoff_max_ms = 2000;
  size_t connections = 4;
  bool operator==(const DynamoSettings&) const = default;
};

struct DynamoError {
  std::string type;  // the exception name ("ConditionalCheckFailedException"), "" for transport
  std::string message;
  int status = 0;            // HTTP status, 0 when none arrived
  bool timed_out = false;    // no answer in time: a write may or may not have been applied
  bool unavailable = false;  // unreachable, throttled or failing (5xx) after every attempt
  explicit operator bool() const { return !message.empty() || !type.empty(); }
  std::string text() const;
  bool is(std::string_view t) const { return type == t; }
};

// An error answer's body: {"__type":"com.amazonaws.dynamodb.v20120810#Name","message":"..."}.
DynamoError parse_dynamo_error(int status, std::string_view body);
// Worth another attempt: throttling, 5xx, internal errors.
bool retryable(const DynamoError& e);

// The operations sessiongate uses, for calls by action (what a table's bill is made of).
inline constexpr const char* kDynamoActions[] = {"GetItem",        "PutItem", "UpdateItem",
                                                 "DeleteItem",     "Scan",    "BatchGetItem",
                                                 "BatchWriteItem", "other"};
inline constexpr size_t kDynamoActionCount = std::size(kDynamoActions);
size_t action_index(std::string_view action);

struct DynamoCounters {
  std::array<std::atomic<uint64_t>, kDynamoActionCount> by_action{};  // calls, not attempts
  std::atomic<uint64_t> calls{0};                                     // attempts sent
  std::atomic<uint64_t> retries{0};                                   // attempts after the first
  std::atomic<uint64_t> throttled{0};                                 // throttling answers
  std::atomic<uint64_t> failures{0};  // calls that failed after every attempt
};

class DynamoClient {
 public:
  DynamoClient(DynamoSettings s, std::shared_ptr<CredentialChain> credentials,
               std::shared_ptr<SSL_CTX> tls);

  // `action` is the operation name ("GetItem"); `response` is the answer's JSON object.
  DynamoError call(std::string_view action, const boost::json::object& request,
                   boost::json::object& response);

  const DynamoSettings& settings() const { return settings_; }
  const DynamoCounters& counters() const { return counters_; }

 private:
  DynamoError attempt(std::string_view action, const std::string& body,
                      boost::json::object& response);
  DynamoError fast_fail();
  void record(const DynamoError& e);

  DynamoSettings settings_;
  std::shared_ptr<CredentialChain> credentials_;
  HttpPool pool_;
  DynamoCounters counters_;
  std::mutex state_mu_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

}  // namespace sg::aws
