// A real redis-server for tests: started on a free loopback port with no persistence, in a
// private directory, and stopped (SIGTERM, then SIGKILL) when the object goes away.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "registry/redis_connection.h"

namespace sg::testing {

class RedisServer {
 public:
  RedisServer() {
    port_ = free_port();
    dir_ = std::filesystem::temp_directory_path() /
           ("sg-redis-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    start();
  }
  ~RedisServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  bool running() const { return pid_ > 0; }
  registry::RedisEndpoint endpoint() const {
    registry::RedisEndpoint ep;
    ep.host = "127.0.0.1";
    ep.port = port_;
    ep.connect_timeout_ms = 500;
    ep.command_timeout_ms = 2000;
    return ep;
  }

  // Starts redis-server on port(). A free port is only a proposal (another process may bind it
  // first): the first start then moves to another port; a restart keeps its port, since the
  // code under test holds it. The server that answers must be ours (its directory).
  void start() {
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (launch() && wait_ours()) {
        started_ = true;
        return;
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
      }
      if (started_) break;
      port_ = free_port();
    }
    std::abort();  // redis-server did not start: the environment is broken
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Runs one command on a fresh connection; the reply text (or the error).
  std::string run(const std::vector<std::string_view>& args) const {
    registry::RedisConnection c(endpoint());
    std::string err;
    if (!c.connect(err)) return "connect: " + err;
    auto r = c.command(args, err);
    if (!r) return "io: " + err;
    if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
    return std::string(registry::reply_text(r.get()));
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
  }

  bool launch() {
    const std::string port = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<std::string> args = {
          "redis-server", "--port", port,    "--bind",      "127.0.0.1",  "--save", "",
          "--appendonly", "no",     "--dir", dir_.string(), "--loglevel", "warning"};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const std::string log = (dir_ / "redis.log").string();
      FILE* f = std::fopen(log.c_str(), "a");
      if (f) {
        ::dup2(::fileno(f), 1);
        ::dup2(::fileno(f), 2);
      }
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
    return pid_ > 0;
  }

  // True once the server on port_ answers with our directory; false if ours exited (the
  // port was taken) or nothing answered in time.
  bool wait_ours() {
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      registry::RedisConnection c(endpoint());
      std::string err;
      if (c.connect(err)) {
        auto r = c.command({"CONFIG", "GET", "dir"}, err);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            registry::reply_text(r->element[1]) == dir_.string()) {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  int port_ = 0;
  bool started_ = false;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

}  // namespace sg::testing
