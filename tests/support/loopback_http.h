// A tiny HTTP/1.1 server on 127.0.0.1 for tests of clients that talk to local endpoints (the
// ECS container-credentials endpoint, EC2 instance metadata): one request per connection,
// answered by the test's handler with Connection: close. It records every request it saw.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sg::test {

struct SeenRequest {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

struct Answer {
  int status = 200;
  std::string body;
};

class LoopbackHttp {
 public:
  using Handler = std::function<Answer(const SeenRequest&)>;

  explicit LoopbackHttp(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackHttp() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  LoopbackHttp(const LoopbackHttp&) = delete;
  LoopbackHttp& operator=(const LoopbackHttp&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      one(c);
      ::close(c);
    }
  }

  void one(int c) {
    std::string in;
    char buf[4096];
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    SeenRequest r;
    size_t line_end = in.find("\r\n");
    const std::string line = in.substr(0, line_end);
    const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (size_t at = line_end + 2; at < head_end;) {
      const size_t end = in.find("\r\n", at);
      const std::string h = in.substr(at, end - at);
      const size_t colon = h.find(':');
      std::string name = h.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const size_t v = h.find_first_not_of(' ', colon + 1);
      r.headers.emplace_back(name, v == std::string::npos ? "" : h.substr(v));
      at = end + 2;
    }
    {
      std::lock_guard lock(mu_);
      seen_.push_back(r);
    }
    const Answer a = handler_(r);
    const std::string out = "HTTP/1.1 " + std::to_string(a.status) +
                            " X\r\nContent-Length: " + std::to_string(a.body.size()) +
                            "\r\nConnection: close\r\n\r\n" + a.body;
    (void)!::write(c, out.data(), out.size());
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

}  // namespace sg::test
