// Dashboard logins: the admin token is typed once into a form, and the browser then holds a
// random login id in an HttpOnly cookie (never the token). Ids live only in this process:
// a restart or an upgrade logs everyone out, which is the safe way round.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sg::admin {

class Logins {
 public:
  using Millis = int64_t;
  // At most `max` logins (the oldest goes first), each valid for `ttl` from its creation.
  explicit Logins(size_t max = 64, Millis ttl = 8 * 3600 * 1000) : max_(max), ttl_(ttl) {}

  // A new login id: 32 random bytes as hex.
  std::string create(Millis now);
  bool valid(std::string_view id, Millis now) const;
  void end(std::string_view id);
  size_t size() const { return expiry_.size(); }
  Millis ttl() const { return ttl_; }

  // Failed attempts: once kMaxFailures were made in the last minute, further attempts are
  // refused until that minute has passed (the token is long and random; this keeps a guessing
  // loop from costing the control plane anything).
  static constexpr size_t kMaxFailures = 10;
  void failed(Millis now);
  bool throttled(Millis now);

 private:
  size_t max_;
  Millis ttl_;
  std::unordered_map<std::string, Millis> expiry_;
  std::deque<std::string> order_;  // creation order, for evicting the oldest
  std::deque<Millis> failures_;
};

// The value of cookie `name` in a Cookie header, or "".
std::string_view cookie_value(std::string_view header, std::string_view name);

}  // namespace sg::admin
