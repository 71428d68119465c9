#include "aws/dynamodb_client.h"

#include <boost/json.hpp>
#include <random>
#include <thread>

#include "aws/sigv4.h"

namespace sg::aws {

namespace json = boost::json;

namespace {

constexpr auto kUnreachableMin = std::chrono::milliseconds(100);
constexpr auto kUnreachableMax = std::chrono::milliseconds(5000);

int64_t jittered(int64_t cap_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(cap_ms, 1))(rng);
}

bool throttling(const DynamoError& e) {
  return e.is("ProvisionedThroughputExceededException") || e.is("ThrottlingException") ||
         e.is("RequestLimitExceeded") || e.is("LimitExceededException");
}

}  // namespace

std::string DynamoError::text() const {
  if (type.empty()) return "dynamodb: " + message;
  return "dynamodb " + type + (message.empty() ? "" : ": " + message);
}

DynamoError parse_dynamo_error(int status, std::string_view body) {
  DynamoError e;
  e.status = status;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o) {
    if (const json::value* t = o->if_contains("__type"); t && t->is_string()) {
      const std::string_view full = t->get_string();
      const size_t hash = full.rfind('#');
      e.type = std::string(hash == std::string_view::npos ? full : full.substr(hash + 1));
    }
    for (const char* k : {"message", "Message"}) {
      if (const json::value* m = o->if_contains(k); m && m->is_string()) {
        e.message =
            std::string(m->get_string().subview(0, std::min<size_t>(m->get_string().size(), 300)));
      }
    }
  }
  if (e.type.empty()) e.type = "HTTP" + std::to_string(status);
  if (e.message.empty()) e.message = "status " + std::to_string(status);
  return e;
}

bool retryable(const DynamoError& e) {
  if (e.type.empty()) return true;  // transport
  return e.status >= 500 || throttling(e) || e.is("InternalServerError") ||
         e.is("ServiceUnavailable") || e.is("TransactionInProgressException");
}

DynamoClient::DynamoClient(DynamoSettings s, std::shared_ptr<CredentialChain> credentials,
                           std::shared_ptr<SSL_CTX> tls)
    : settings_(std::move(s)),
      credentials_(std::move(credentials)),
      pool_(settings_.endpoint, std::move(tls), settings_.connections) {}

DynamoError DynamoClient::fast_fail() {
  std::lock_guard lock(state_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now >= retry_at_) return {};
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
  DynamoError e;
  e.message =
      "unavailable: " + last_error_ + " (next attempt in " + std::to_string(wait.count()) + " ms)";
  e.unavailable = true;
  return e;
}

void DynamoClient::record(const DynamoError& e) {
  std::lock_guard lock(state_mu_);
  if (!e.unavailable) {
    backoff_ = std::chrono::milliseconds(0);
    return;
  }
  last_error_ = e.text();
  backoff_ = backoff_.count() == 0 ? kUnreachableMin : std::min(backoff_ * 2, kUnreachableMax);
  retry_at_ = std::chrono::steady_clock::now() + backoff_;
}

size_t action_index(std::string_view action) {
  for (size_t i = 0; i + 1 < kDynamoActionCount; ++i) {
    if (action == kDynamoActions[i]) return i;
  }
  return kDynamoActionCount - 1;
}

DynamoError DynamoClient::call(std::string_view action, const json::object& request,
                               json::object& response) {
  if (auto e = fast_fail()) return e;
  counters_.by_action[action_index(action)].fetch_add(1, std::memory_order_relaxed);
  const std::string body = json::serialize(request);
  DynamoError e;
  for (int attempt_no = 0; attempt_no < settings_.max_attempts; ++attempt_no) {
    if (attempt_no > 0) {
      counters_.retries.fetch_add(1, std::memory_order_relaxed);
      const int64_t cap =
          std::min(settings_.backoff_max_ms, settings_.backoff_base_ms << (attempt_no - 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(jittered(cap)));
    }
    e = attempt(action, body, response);
    if (!e || !retryable(e)) break;
    if (throttling(e)) counters_.throttled.fetch_add(1, std::memory_order_relaxed);
  }
  if (e && retryable(e)) {
    e.unavailable = true;
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
  }
  record(e);
  return e;
}

DynamoError DynamoClient::attempt(std::string_view action, const std::string& body,
                                  json::object& response) {
  Credentials creds;
  std::string why;
  if (!credentials_->get(creds, why)) {
    DynamoError e;
    e.type = "MissingCredentials";
    e.message = why;
    e.unavailable = true;
    return e;
  }
  const auto now = std::chrono::system_clock::now();
  const std::string date =
      amz_date(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  SigningInput in;
  in.method = "POST";
  in.path = "/";
  in.region = settings_.region;
  in.service = "dynamodb";
  in.amz_date = date;
  in.payload = body;
  in.headers = {{"host", settings_.endpoint.authority()},
                {"content-type", "application/x-amz-json-1.0"},
                {"x-amz-date", date},
                {"x-amz-target", "DynamoDB_20120810." + std::string(action)}};
  if (!creds.session_token.empty())
    in.headers.emplace_back("x-amz-security-token", creds.session_token);
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.body = body;
  for (size_t i = 1; i < in.headers.size(); ++i) req.headers.push_back(in.headers[i]);
  req.headers.emplace_back("authorization", authorization(in, creds));
  HttpResponse resp;
  counters_.calls.fetch_add(1, std::memory_order_relaxed);
  if (auto f = pool_.exchange(req, resp, settings_.timeouts)) {
    DynamoError e;
    e.message = f.message;
    e.timed_out = f.timed_out && f.maybe_sent;
    return e;
  }
  if (resp.status != 200) return parse_dynamo_error(resp.status, resp.body);
  boost::system::error_code ec;
  json::value v = json::parse(resp.body, ec);
  if (ec || !v.is_object()) {
    DynamoError e;
    e.type = "InvalidResponse";
    e.message = "the answer to " + std::string(action) + " is not a JSON object";
    e.status = resp.status;
    return e;
  }
  response = std::move(v.as_object());
  return {};
}

}  // namespace sg::aws
