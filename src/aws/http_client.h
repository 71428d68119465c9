// A small blocking HTTP/1.1 client for the AWS calls the registry makes (DynamoDB, the
// container-credentials endpoint, EC2 instance metadata): plain TCP or TLS (verified against
// the system's trust store, SNI and host name checked), one deadline for the whole exchange,
// bounded heads and bodies, keep-alive. Used only on store threads, never on an event loop:
// name resolution (getaddrinfo) cannot be bounded by the deadline and is the one wait that
// may run longer.
#pragma once

#include <openssl/ssl.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg::aws {

struct Endpoint {
  bool tls = true;
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  uint16_t port = 443;
  std::string ca_file;  // "" = the system's trust store
  // "Host" header value: host, or host:port when the port is not the scheme's default.
  std::string authority() const;
  bool operator==(const Endpoint&) const = default;
};

// "https://dynamodb.us-west-2.amazonaws.com", "http://127.0.0.1:8000", "http://[::1]:8000".
// Nothing after the authority but an optional "/". False with a message naming the problem.
bool parse_endpoint_url(std::string_view url, Endpoint& out, std::string& error);

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // Host and Content-Length are added
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string_view header(std::string_view lower_name) const;
};

struct HttpTimeouts {
  int64_t connect_ms = 1000;
  int64_t request_ms = 3000;  // the whole exchange once connected: send, wait, read
  bool operator==(const HttpTimeouts&) const = default;
};

struct HttpFailure {
  std::string message;
  bool timed_out = false;
  // The request may have reached the server (the failure came after it was sent).
  bool maybe_sent = false;
  explicit operator bool() const { return !message.empty(); }
};

// A TLS client context: verification on, the system's trust store plus `ca_file`.
std::shared_ptr<SSL_CTX> make_client_tls(const std::string& ca_file, std::string& error);

class HttpConnection {
 public:
  HttpConnection(Endpoint ep, std::shared_ptr<SSL_CTX> tls);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // One request and its response, connecting first when needed. A connection the server
  // closed while idle is reopened once before anything is sent.
  HttpFailure exchange(const HttpRequest& req, HttpResponse& resp, const HttpTimeouts& t);
  bool open() const { return fd_ >= 0; }
  void close();

 private:
  HttpFailure connect(int64_t deadline_ms, const HttpTimeouts& t);
  HttpFailure write_all(std::string_view data, int64_t deadline_ms);
  // Reads what is available into `in_` (waiting until the deadline); 0 = EOF.
  HttpFailure read_some(int64_t deadline_ms, size_t& got);
  HttpFailure read_response(HttpResponse& resp, int64_t deadline_ms, bool& keep_alive);
  HttpFailure wait(short events, int64_t deadline_ms);
  bool idle_closed() const;

  Endpoint ep_;
  std::shared_ptr<SSL_CTX> tls_ctx_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string in_;
};

// Connections to one endpoint, reused; at most `max` open at once (more calls wait).
class HttpPool {
 public:
  HttpPool(Endpoint ep, std::shared_ptr<SSL_CTX> tls, size_t max);
  HttpFailure exchange(const HttpRequest& req, HttpResponse& resp, const HttpTimeouts& t);
  const Endpoint& endpoint() const { return ep_; }

 private:
  Endpoint ep_;
  std::shared_ptr<SSL_CTX> tls_;
  size_t max_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpConnection>> idle_;
  size_t busy_ = 0;
  std::condition_variable freed_;
};

// One request on a fresh connection (credential endpoints: called seldom).
HttpFailure http_once(const Endpoint& ep, const HttpRequest& req, HttpResponse& resp,
                      const HttpTimeouts& t);

}  // namespace sg::aws
