// A real DynamoDB-compatible server for tests: dynalite from the committed npm lock file
// (tests/e2e), in memory, on a free loopback port; killed when the object goes away.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "aws/http_client.h"

namespace sg::testing {

class DynaliteServer {
 public:
  DynaliteServer() {
    port_ = 20000 + (::getpid() % 20000);
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string bin = std::string(SG_SOURCE_DIR) + "/tests/e2e/node_modules/.bin/dynalite";
      const std::string port = std::to_string(port_);
      ::execl(bin.c_str(), bin.c_str(), "--port", port.c_str(), "--host", "127.0.0.1",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    aws::Endpoint ep;
    ep.tls = false;
    ep.host = "127.0.0.1";
    ep.port = static_cast<uint16_t>(port_);
    for (int i = 0; i < 100; ++i) {
      aws::HttpRequest req;
      aws::HttpResponse resp;
      if (!aws::http_once(ep, req, resp, {200, 500})) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~DynaliteServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  DynaliteServer(const DynaliteServer&) = delete;
  DynaliteServer& operator=(const DynaliteServer&) = delete;
  int port() const { return port_; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sg::testing
