#include "aws/http_client.h"

#include "aws/http_detail.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace sg::aws {

using namespace detail;  // (the shared helpers, http_detail.h)

std::string Endpoint::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  const std::string h = v6 ? "[" + host + "]" : host;
  return port == (tls ? 443 : 80) ? h : h + ":" + std::to_string(port);
}

bool parse_endpoint_url(std::string_view url, Endpoint& out, std::string& error) {
  Endpoint ep;
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    ep.tls = false;
    ep.port = 80;
    url.remove_prefix(7);
  } else {
    error = "must start with http:// or https://";
    return false;
  }
  if (url.ends_with("/")) url.remove_suffix(1);
  if (url.find_first_of("/?#@") != std::string_view::npos) {
    error = "must be scheme://host[:port] with no path, query or user";
    return false;
  }
  std::string_view host = url, port;
  if (url.starts_with("[")) {
    const size_t close = url.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed '[' in the host";
      return false;
    }
    host = url.substr(1, close - 1);
    const std::string_view rest = url.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "unexpected text after the IPv6 address";
        return false;
      }
      port = rest.substr(1);
    }
  } else if (const size_t colon = url.rfind(':'); colon != std::string_view::npos) {
    host = url.substr(0, colon);
    port = url.substr(colon + 1);
  }
  if (host.empty()) {
    error = "no host";
    return false;
  }
  if (!url.starts_with("[") && host.find(':') != std::string_view::npos) {
    error = "an IPv6 host must be in brackets";
    return false;
  }
  if (url.size() != host.size() || !port.empty()) {
    size_t p = 0;
    if (!parse_size(port, p) || p == 0 || p > 65535) {
      error = "port must be 1-65535";
      return false;
    }
    ep.port = static_cast<uint16_t>(p);
  }
  ep.host = std::string(host);
  out = std::move(ep);
  return true;
}

std::string_view HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

std::shared_ptr<SSL_CTX> make_client_tls(const std::string& ca_file, std::string& error) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) {
    error = tls_error();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    error = "loading the system trust store: " + tls_error();
    return nullptr;
  }
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    error = "loading " + ca_file + ": " + tls_error();
    return nullptr;
  }
  return ctx;
}

HttpConnection::HttpConnection(Endpoint ep, std::shared_ptr<SSL_CTX> tls)
    : ep_(std::move(ep)), tls_ctx_(std::move(tls)) {}

HttpConnection::~HttpConnection() {
  close();
}

void HttpConnection::close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

HttpFailure HttpConnection::wait(short events, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - steady_ms();
    if (left <= 0) return {"timed out", true};
    pollfd p{fd_, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return {};
    if (n == 0) return {"timed out", true};
    if (errno != EINTR) return {std::string("poll: ") + std::strerror(errno)};
  }
}

HttpFailure HttpConnection::connect(int64_t deadline_ms, const HttpTimeouts&) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(ep_.port);
  if (int rc = ::getaddrinfo(ep_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return {"resolving " + ep_.host + ": " + gai_strerror(rc)};
  }
  std::string last = "no address";
  bool timed_out = false;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) continue;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      if (auto f = wait(POLLOUT, deadline_ms)) {
        last = f.message;
        timed_out = f.timed_out;
      } else {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) break;
        last = std::strerror(err);
      }
    } else {
      last = std::strerror(errno);
    }
    ::close(fd_);
    fd_ = -1;
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return {"connecting to " + ep_.authority() + ": " + last, timed_out};
  if (!ep_.tls) return {};
  ssl_ = SSL_new(tls_ctx_.get());
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, ep_.host.c_str());
  in6_addr a6;
  in_addr a4;
  const bool literal = ::inet_pton(AF_INET, ep_.host.c_str(), &a4) == 1 ||
                       ::inet_pton(AF_INET6, ep_.host.c_str(), &a6) == 1;
  if (literal) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), ep_.host.c_str());
  } else {
    SSL_set1_host(ssl_, ep_.host.c_str());
  }
  for (;;) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return {};
    const int e = SSL_get_error(ssl_, rc);
    HttpFailure f;
    if (e == SSL_ERROR_WANT_READ) {
      f = wait(POLLIN, deadline_ms);
    } else if (e == SSL_ERROR_WANT_WRITE) {
      f = wait(POLLOUT, deadline_ms);
    } else {
      const long v = SSL_get_verify_result(ssl_);
      f = {"tls handshake with " + ep_.authority() + ": " +
           (v != X509_V_OK ? X509_verify_cert_error_string(v) : tls_error())};
    }
    if (f) {
      close();
      return f;
    }
  }
}

HttpFailure HttpConnection::write_all(std::string_view data, int64_t deadline_ms) {
  while (!data.empty()) {
    ssize_t n;
    if (ssl_) {
      size_t wrote = 0;
      const int rc = SSL_write_ex(ssl_, data.data(), data.size(), &wrote);
      if (rc == 1) {
        data.remove_prefix(wrote);
        continue;
      }
      const int e = SSL_get_error(ssl_, rc);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        if (auto f = wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms)) return f;
        continue;
      }
      return {"tls write: " + tls_error()};
    }
    n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (auto f = wait(POLLOUT, deadline_ms)) return f;
    } else {
      return {std::string("send: ") + std::strerror(errno)};
    }
  }
  return {};
}

HttpFailure HttpConnection::read_some(int64_t deadline_ms, size_t& got) {
  char buf[16384];
  for (;;) {
    if (ssl_) {
      size_t n = 0;
      const int rc = SSL_read_ex(ssl_, buf, sizeof buf, &n);
      if (rc == 1) {
        in_.append(buf, n);
        got = n;
        return {};
      }
      const int e = SSL_get_error(ssl_, rc);
      if (e == SSL_ERROR_ZERO_RETURN) {
        got = 0;
        return {};
      }
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (auto f = wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms)) return f;
        continue;
      }
      if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        got = 0;  // closed without close_notify: an EOF, as plain TCP would see it
        return {};
      }
      return {"tls read: " + tls_error()};
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n >= 0) {
      in_.append(buf, static_cast<size_t>(n));
      got = static_cast<size_t>(n);
      return {};
    }
    if (errno == EAGAIN || errno == EINTR) {
      if (auto f = wait(POLLIN, deadline_ms)) return f;
      continue;
    }
    return {std::string("recv: ") + std::strerror(errno)};
  }
}

bool HttpConnection::idle_closed() const {
  pollfd p{fd_, POLLIN, 0};
  // Nothing is outstanding on an idle connection: readable means EOF (or junk), either way
  // it cannot carry the next request.
  return ::poll(&p, 1, 0) != 0;
}

HttpFailure HttpConnection::exchange(const HttpRequest& req, HttpResponse& resp,
                                     const HttpTimeouts& t) {
  const int64_t start = steady_ms();
  if (open() && idle_closed()) close();
  if (!open()) {
    if (auto f = connect(start + t.connect_ms, t)) {
      close();
      return f;
    }
  }
  std::string wire =
      req.method + " " + req.target + " HTTP/1.1\r\nHost: " + ep_.authority() + "\r\n";
  for (const auto& [k, v] : req.headers) wire += k + ": " + v + "\r\n";
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    wire += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  }
  wire += "\r\n";
  wire += req.body;
  const int64_t deadline = steady_ms() + t.request_ms;
  if (auto f = write_all(wire, deadline)) {
    close();
    f.maybe_sent = true;
    return f;
  }
  bool keep_alive = false;
  if (auto f = read_response(resp, deadline, keep_alive)) {
    close();
    f.maybe_sent = true;
    return f;
  }
  if (!keep_alive) close();
  return {};
}

HttpPool::HttpPool(Endpoint ep, std::shared_ptr<SSL_CTX> tls, size_t max)
    : ep_(std::move(ep)), tls_(std::move(tls)), max_(std::max<size_t>(1, max)) {}

HttpFailure HttpPool::exchange(const HttpRequest& req, HttpResponse& resp, const HttpTimeouts& t) {
  std::unique_ptr<HttpConnection> c;
  {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [this] { return busy_ < max_; });
    ++busy_;
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!c) c = std::make_unique<HttpConnection>(ep_, tls_);
  HttpFailure f = c->exchange(req, resp, t);
  std::lock_guard lock(mu_);
  --busy_;
  if (c->open()) idle_.push_back(std::move(c));
  freed_.notify_one();
  return f;
}

HttpFailure http_once(const Endpoint& ep, const HttpRequest& req, HttpResponse& resp,
                      const HttpTimeouts& t) {
  std::shared_ptr<SSL_CTX> tls;
  if (ep.tls) {
    std::string error;
    tls = make_client_tls(ep.ca_file, error);
    if (!tls) return {error};
  }
  HttpConnection c(ep, tls);
  return c.exchange(req, resp, t);
}

}  // namespace sg::aws
