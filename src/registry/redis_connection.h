// One blocking hiredis connection with timeouts on connect and on every command, plus the
// parsed `redis://` endpoint it talks to. Used only off the data plane: by the control-plane
// thread (admin writes, activity, sweeps) and by the change feed's own thread.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sg::registry {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  // ACL user; empty = AUTH with the password only (or no AUTH)
  std::string password;
  int64_t connect_timeout_ms = 1000;
  int64_t command_timeout_ms = 1000;
  bool operator==(const RedisEndpoint&) const = default;
};

// redis://[[user]:password@]host[:port][/db]; IPv6 hosts in brackets. Userinfo is
// percent-decoded. False with a message naming the problem.
bool parse_redis_url(std::string_view url, RedisEndpoint& out, std::string& error);

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

inline std::string_view reply_text(const redisReply* r) {
  return r && r->str ? std::string_view(r->str, r->len) : std::string_view();
}

class RedisConnection {
 public:
  // `name` is set with CLIENT SETNAME (suffixed with the pid), so an operator can tell the
  // routers' connections apart in CLIENT LIST.
  explicit RedisConnection(RedisEndpoint ep, std::string name = "")
      : ep_(std::move(ep)), name_(std::move(name)) {}
  ~RedisConnection() { close(); }
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects, AUTHs and SELECTs. False with `error` set.
  bool connect(std::string& error);
  bool connected() const { return ctx_ != nullptr; }
  // True when an idle connection is still open: a socket that reads EOF (or anything, since
  // nothing is outstanding) while idle has been closed by the server.
  bool idle_alive() const;
  void close();

  // One command. On an I/O error the connection is closed and null returned with `error`;
  // a Redis error reply is returned as a reply of type REDIS_REPLY_ERROR.
  Reply command(const std::vector<std::string_view>& args, std::string& error);
  // Pipelining: queue commands, then read one reply per queued command in order.
  void append(const std::vector<std::string_view>& args);
  Reply read(std::string& error);

  // The last failure was a command or connect timeout (the server did not answer in time),
  // not a refused or broken connection.
  bool timed_out() const { return timed_out_; }

  redisContext* raw() { return ctx_; }
  const RedisEndpoint& endpoint() const { return ep_; }

 private:
  Reply fail(std::string& error);

  RedisEndpoint ep_;
  std::string name_;
  redisContext* ctx_ = nullptr;
  bool timed_out_ = false;
};

}  // namespace sg::registry
