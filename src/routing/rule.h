// Routing rules: ordered by priority, first match wins (like load-balancer listener rules).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/pattern.h"

namespace sg::routing {

enum class ActionType { kUpstream, kFixed, kRedirect, kSession };

enum class SessionFrom { kPath, kHost };

// How the Host header is sent upstream.
enum class HostHeader { kKeep, kUpstream };

struct Action {
  ActionType type = ActionType::kUpstream;
  // upstream
  boost::asio::ip::tcp::endpoint address;
  std::string address_text;  // "127.0.0.1:9000", also the Host for HostHeader::kUpstream
  HostHeader host_header = HostHeader::kKeep;
  // fixed / redirect
  int status = 0;
  std::string page;          // a built-in page name, or empty
  std::string body;          // literal body for fixed responses
  std::string content_type;  // of `body`
  std::string location;      // redirect target; "{path}" and "{query}" are substituted
  // session
  SessionFrom from = SessionFrom::kPath;
  bool strip_prefix = false;  // path mode: forward "/rest" instead of "/session/<id>/rest"
  bool affinity = true;       // path mode: route root-level requests by cookie / Referer
  // path mode: pages get a per-session service worker that names the session of every request
  // they make (X-Sessiongate-Session), which routes root-level requests before the Referer.
  bool service_worker = false;
  std::string prefix;  // path mode: the rule's path pattern without its final '*'
};

struct Rule {
  int priority = 0;
  std::string name;  // "rule[2]" or the configured name; appears in logs and pages
  std::string host;  // pattern, empty = any
  std::string path;  // pattern, empty = any
  Action action;
  HostPattern host_pattern;  // `host`, prepared by the RuleTable
};

// Where the session id of a request comes from, when a session rule matched.
struct RuleMatch {
  const Rule* rule = nullptr;
  bool by_affinity = false;       // matched through the affinity cookie / Referer, not the pattern
  std::string_view affinity_id;   // the id named by the cookie / Referer
  std::string_view host_no_port;  // the request's Host without its port
};

class RuleTable {
 public:
  RuleTable() = default;
  explicit RuleTable(std::vector<Rule> rules);
  // First rule in priority order whose host and path patterns match, or nullptr.
  const Rule* match(std::string_view host, std::string_view path) const;
  // Like match(), but a path-mode session rule whose host matches also takes a request outside
  // its prefix when it names a session: by the session's service worker's header (rules with
  // service_worker only), else a Referer under the prefix, else the affinity cookie.
  RuleMatch match(std::string_view host, std::string_view path, std::string_view cookie_header,
                  std::string_view referer, std::string_view cookie_name,
                  std::string_view session_header = {}) const;
  // The session a request would be sent to: the id a session rule takes from its path, host,
  // worker header, Referer or cookie; empty when the request matches no session rule or names
  // no valid id.
  std::string_view session_of(std::string_view host, std::string_view path,
                              std::string_view cookie_header, std::string_view referer,
                              std::string_view cookie_name,
                              std::string_view session_header = {}) const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

}  // namespace sg::routing
