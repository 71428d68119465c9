#include "registry/redis_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <charconv>

namespace sg::registry {

namespace {

timeval to_timeval(int64_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

}  // namespace

bool parse_redis_url(std::string_view url, RedisEndpoint& out, std::string& error) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    error = "not a URL (expected redis://[user:password@]host[:port][/db])";
    return false;
  }
  const auto& u = *parsed;
  if (u.scheme() != "redis") {
    error = "scheme must be redis:// (rediss:// TLS is not supported)";
    return false;
  }
  if (!u.has_authority() || u.host().empty()) {
    error = "missing host";
    return false;
  }
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = std::string(u.encoded_host_address());
    if (out.host.size() > 2 && out.host.front() == '[')
      out.host = out.host.substr(1, out.host.size() - 2);
  } else {
    out.host = u.host();
  }
  out.port = 6379;
  if (u.has_port()) {
    std::string_view p = u.port();
    int port = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port < 1 || port > 65535) {
      error = "port must be 1-65535";
      return false;
    }
    out.port = port;
  }
  if (u.has_userinfo()) {
    out.username = u.user();
    if (u.has_password()) out.password = u.password();
  }
  out.db = 0;
  std::string_view path = u.encoded_path();
  if (!path.empty() && path != "/") {
    std::string_view d = path.substr(1);
    int db = -1;
    auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), db);
    if (ec != std::errc() || ptr != d.data() + d.size() || db < 0 || db > 65535) {
      error = "database must be a number (redis://host:port/0)";
      return false;
    }
    out.db = db;
  }
  if (u.has_query() || u.has_fragment()) {
    error = "query and fragment are not supported";
    return false;
  }
  return true;
}

bool RedisConnection::connect(std::string& error) {
  close();
  timed_out_ = false;
  redisContext* c =
      redisConnectWithTimeout(ep_.host.c_str(), ep_.port, to_timeval(ep_.connect_timeout_ms));
  if (c == nullptr) {
    error = "cannot allocate a Redis context";
    return false;
  }
  if (c->err) {
    timed_out_ = std::string_view(c->errstr).find("timed out") != std::string_view::npos;
    error = "connect " + ep_.host + ":" + std::to_string(ep_.port) + ": " + c->errstr;
    redisFree(c);
    return false;
  }
  redisSetTimeout(c, to_timeval(ep_.command_timeout_ms));
  redisEnableKeepAlive(c);
  ctx_ = c;
  if (!ep_.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!ep_.username.empty()) auth.push_back(ep_.username);
    auth.push_back(ep_.password);
    Reply r = command(auth, error);
    if (!r) return false;
    if (r->type == REDIS_REPLY_ERROR) {
      error = "AUTH failed: " + std::string(reply_text(r.get()));
      close();
      return false;
    }
  }
  if (ep_.db != 0) {
    const std::string db = std::to_string(ep_.db);
    Reply r = command({"SELECT", db}, error);
    if (!r) return false;
    if (r->type == REDIS_REPLY_ERROR) {
      error = "SELECT " + db + " failed: " + std::string(reply_text(r.get()));
      close();
      return false;
    }
  }
  if (!name_.empty()) {
    Reply r = command({"CLIENT", "SETNAME", name_ + "-" + std::to_string(::getpid())}, error);
    if (!r) return false;
  }
  return true;
}

bool RedisConnection::idle_alive() const {
  if (ctx_ == nullptr) return false;
  pollfd p{ctx_->fd, POLLIN, 0};
  if (::poll(&p, 1, 0) == 0) return true;
  return false;
}

void RedisConnection::close() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

Reply RedisConnection::fail(std::string& error) {
  error = ctx_ && ctx_->err ? std::string(ctx_->errstr) : "connection lost";
  timed_out_ = error.empty() || error == "Resource temporarily unavailable" ||
               error.find("timed out") != std::string::npos;
  if (timed_out_) {
    error = "no reply within " + std::to_string(ep_.command_timeout_ms) + " ms";
  }
  close();
  return nullptr;
}

Reply RedisConnection::command(const std::vector<std::string_view>& args, std::string& error) {
  if (ctx_ == nullptr) {
    error = "not connected";
    return nullptr;
  }
  append(args);
  return read(error);
}

void RedisConnection::append(const std::vector<std::string_view>& args) {
  if (ctx_ == nullptr) return;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data());
}

Reply RedisConnection::read(std::string& error) {
  if (ctx_ == nullptr) {
    error = "not connected";
    return nullptr;
  }
  void* r = nullptr;
  if (redisGetReply(ctx_, &r) != REDIS_OK || r == nullptr) return fail(error);
  return Reply(static_cast<redisReply*>(r));
}

}  // namespace sg::registry
