// The dashboard on the admin listener: `/` sends a browser to `/dashboard`; a login form takes
// the admin token once and sets an HttpOnly, SameSite=Strict cookie holding a random login id;
// the page then follows the router through Server-Sent Events (/dashboard/events, one
// snapshot a second for the page, search and filter it shows) and acts through the admin API
// (/v1/...), which accepts the cookie only with the X-Sessiongate-Dashboard header (a
// cross-site form cannot send one). The page's files are compiled into the binary.
// Control-plane thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin/dashboard/logins.h"
#include "admin/dashboard/traffic_window.h"
#include "admin/http_server.h"
#include "observe/recent_errors.h"
#include "registry/registry.h"

namespace sg::admin {

struct DashboardDeps {
  std::string token;  // the admin token, which the login form must be given
  const registry::Registry* registry = nullptr;
  std::function<boost::json::object()> health;                // router health, now
  std::function<std::vector<observe::RecentError>()> errors;  // every worker's recent errors
};

class Dashboard {
 public:
  static constexpr std::string_view kCookie = "sg_dashboard";
  static constexpr std::string_view kHeader = "x-sessiongate-dashboard";
  static constexpr size_t kMaxStreams = 16;
  static constexpr std::chrono::seconds kSampleEvery{10};

  Dashboard(boost::asio::io_context& io, DashboardDeps deps);
  // Starts sampling per-session traffic (for the last-minutes figures).
  void start();
  void stop();

  // `/`, `/dashboard` and everything under it; nullopt for any other path.
  std::optional<Response> handle(const Request& req);

  // How an admin API request without a bearer token stands with the dashboard's cookie.
  CookieAuth cookie_auth(const Request& req) const;

  // One snapshot, as the event stream sends it (also GET /dashboard/snapshot).
  std::string snapshot(const std::string& query_string, std::string& error) const;
  size_t streams() const { return streams_; }

 private:
  Response login(const Request& req);
  Response logout(const Request& req);
  Response events(const Request& req);
  bool logged_in(const Request& req) const;
  void sample();
  void schedule_sample();

  boost::asio::io_context& io_;
  DashboardDeps deps_;
  Logins logins_;
  TrafficWindow window_;
  boost::asio::steady_timer sampler_{io_};
  size_t streams_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sg::admin
