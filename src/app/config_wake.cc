// wake: the platform hook (webhook or command) that starts and stops containers, and the
// bounds on requests held while one starts.
#include <cstdlib>

#include "app/config_reader.h"

namespace sg::app {

namespace {

// "http://host[:port][/path]": the platform's orchestrator. Plain HTTP only for now (the hook
// runs on a network the operator controls; the body is signed).
bool parse_webhook_url(const std::string& url, lifecycle::WebhookTarget& t, std::string& why) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    why =
        "https webhooks are not supported yet: use http:// on a private network (the body is "
        "signed with secret_env)";
    return false;
  }
  if (url.rfind(kScheme, 0) != 0) {
    why = "wake.webhook.url must start with http://";
    return false;
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  t.path = slash == rest.npos ? "/" : std::string(rest.substr(slash));
  std::string_view port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == authority.npos) {
      why = "wake.webhook.url: unclosed '[' in the host";
      return false;
    }
    t.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "wake.webhook.url: junk after the IPv6 host";
        return false;
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != authority.npos) port = authority.substr(colon + 1);
  }
  uint64_t p = 0;
  if (t.host.empty() || !parse_uint(port, p) || p == 0 || p > 65535) {
    why = "wake.webhook.url needs a host and a port from 1 to 65535";
    return false;
  }
  for (char c : t.path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      why = "wake.webhook.url: the path must not contain spaces or control characters";
      return false;
    }
  }
  t.port = static_cast<uint16_t>(p);
  t.url = url;
  return true;
}

void read_webhook(Reader& r, const YAML::Node& h, lifecycle::WakeSettings& w) {
  if (!r.mapping(h, "wake.webhook", {"url", "secret_env", "timeout"})) return;
  std::string url;
  std::string why;
  if (!h["url"]) {
    r.error(h, "wake.webhook needs a url");
  } else if (r.scalar(h["url"], "url", url) && !parse_webhook_url(url, w.webhook, why)) {
    r.error(h["url"], why);
  }
  if (const YAML::Node s = h["secret_env"]) {
    std::string var;
    if (r.scalar(s, "secret_env", var)) {
      const char* v = std::getenv(var.c_str());
      if (!v || std::string_view(v).size() < 16) {
        r.error(s, "wake.webhook.secret_env: environment variable " + var +
                       (v ? " is shorter than 16 characters" : " is not set"));
      } else {
        w.webhook.secret = v;
      }
    }
  }
  r.duration(h, "timeout", "wake.webhook", w.timeout, Millis(300'000));
}

void read_command(Reader& r, const YAML::Node& c, lifecycle::WakeSettings& w) {
  if (!c.IsSequence() || c.size() == 0) {
    r.error(c, "wake.command must be a non-empty list: [program, arguments...]");
    return;
  }
  for (const auto& a : c) {
    std::string s;
    if (r.scalar(a, "wake.command entry", s)) w.command.push_back(s);
  }
  if (!w.command.empty() && (w.command[0].empty() || w.command[0][0] != '/')) {
    r.error(c[0], "wake.command: the program must be an absolute path");
  }
}

void read_count(Reader& r, const YAML::Node& parent, const char* key, size_t& out, size_t max) {
  const YAML::Node n = parent[key];
  if (!n) return;
  std::string s;
  uint64_t v = 0;
  if (!r.scalar(n, key, s) || !parse_uint(s, v) || v < 1 || v > max) {
    r.error(
        n, std::string("wake.") + key + " must be a whole number from 1 to " + std::to_string(max));
    return;
  }
  out = static_cast<size_t>(v);
}

}  // namespace

void read_wake(Reader& r, const YAML::Node& n, Config& cfg) {
  lifecycle::WakeSettings& w = cfg.wake;
  if (!r.mapping(n, "wake",
                 {"webhook", "command", "hold_timeout", "navigation_hold", "max_held_per_session",
                  "max_held", "max_held_bytes", "retries", "retry_backoff", "breaker_failures",
                  "breaker_cooldown"})) {
    return;
  }
  if (n["webhook"] && n["command"]) r.error(n, "wake takes a webhook or a command, not both");
  if (!n["webhook"] && !n["command"]) {
    r.error(n, "wake needs a webhook or a command that starts containers");
  }
  if (n["webhook"]) read_webhook(r, n["webhook"], w);
  if (n["command"]) read_command(r, n["command"], w);
  w.enabled = true;
  r.duration(n, "hold_timeout", "wake", w.hold_timeout, Millis(600'000));
  r.duration(n, "navigation_hold", "wake", w.navigation_hold, Millis(600'000));
  read_count(r, n, "max_held_per_session", w.max_held_per_session, 1'000'000);
  read_count(r, n, "max_held", w.max_held, 10'000'000);
  r.size(n, "max_held_bytes", "wake", w.max_held_bytes, 4096, size_t{1} << 40);
  size_t retries = static_cast<size_t>(w.retries);
  if (n["retries"] && n["retries"].IsScalar() && n["retries"].Scalar() == "0") {
    retries = 0;
  } else {
    read_count(r, n, "retries", retries, 10);
  }
  w.retries = static_cast<int>(retries);
  r.duration(n, "retry_backoff", "wake", w.retry_backoff, Millis(60'000));
  size_t failures = static_cast<size_t>(w.breaker_failures);
  read_count(r, n, "breaker_failures", failures, 1000);
  w.breaker_failures = static_cast<int>(failures);
  r.duration(n, "breaker_cooldown", "wake", w.breaker_cooldown, Millis(3'600'000));
}

}  // namespace sg::app
