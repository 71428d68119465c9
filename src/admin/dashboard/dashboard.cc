#include "admin/dashboard/dashboard.h"

#include "admin/api.h"
#include "admin/api_support.h"
#include "admin/dashboard/snapshot.h"
#include "http/pages.h"
#include "sg_embed_kDashboardCss.h"
#include "sg_embed_kDashboardHtml.h"
#include "sg_embed_kDashboardJs.h"
#include "sg_embed_kDashboardLoginHtml.h"

namespace sg::admin {

namespace json = boost::json;

namespace {

// Only the page's own files run; it may not be framed; no Referer leaves this origin (and
// "same-origin", unlike "no-referrer", keeps the Origin header that the login check reads).
void harden(Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "connect-src 'self'; img-src 'self'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
}

Response file(std::string_view type, std::string_view body, int status = 200) {
  Response r;
  r.status = status;
  r.content_type = std::string(type);
  r.body = std::string(body);
  harden(r);
  return r;
}

constexpr std::string_view kHtml = "text/html; charset=utf-8";
// A gate, so a browser has an icon and asks nothing else of the API.
constexpr std::string_view kIcon =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect width=\"16\" "
    "height=\"16\" rx=\"3\" fill=\"#0b57d0\"/><path d=\"M4 13V6l4-3 4 3v7h-2V8H6v5z\" "
    "fill=\"#fff\"/></svg>";

// The login page, with `message` (if any) announced to screen readers.
Response login_page(int status, std::string_view message) {
  std::string body = kDashboardLoginHtml;
  std::string note;
  if (!message.empty()) {
    note = "<p class=\"problem\" role=\"alert\">";
    http::append_html_escaped(note, message);
    note += "</p>";
  }
  if (size_t at = body.find("<!--message-->"); at != std::string::npos) {
    body.replace(at, 14, note);
  }
  return file(kHtml, body, status);
}

Response redirect(int status, std::string_view to) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "see " + std::string(to) + "\n";
  r.headers.emplace_back("Location", std::string(to));
  harden(r);
  return r;
}

// A form post from another site (login CSRF) names its own origin; a same-origin one names
// ours, and one without Origin comes from a client that is not a browser.
bool same_origin(const Request& req) {
  const std::string origin = req.header("origin");
  if (origin.empty()) return true;
  const std::string host = req.header("host");
  return origin == "http://" + host || origin == "https://" + host;
}

std::string login_cookie(std::string_view id, int64_t max_age_s) {
  return std::string(Dashboard::kCookie) + "=" + std::string(id) +
         "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age_s);
}

}  // namespace

Dashboard::Dashboard(boost::asio::io_context& io, DashboardDeps deps)
    : io_(io), deps_(std::move(deps)) {}

void Dashboard::start() {
  sample();
  schedule_sample();
}

void Dashboard::stop() {
  sampler_.cancel();
  *alive_ = false;
}

void Dashboard::schedule_sample() {
  sampler_.expires_after(kSampleEvery);
  sampler_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    sample();
    schedule_sample();
  });
}

void Dashboard::sample() {
  const registry::Millis now = registry::now_ms();
  deps_.registry->for_each_session([&](const registry::Registry::SessionView& s) {
    if (s.route) window_.sample(s.id, totals_of(*s.route), now);
  });
  window_.end_round();
}

bool Dashboard::logged_in(const Request& req) const {
  return logins_.valid(cookie_value(req.header("cookie"), kCookie), registry::now_ms());
}

CookieAuth Dashboard::cookie_auth(const Request& req) const {
  if (!logged_in(req)) return CookieAuth::kNone;
  return req.header(kHeader) == "1" ? CookieAuth::kValid : CookieAuth::kNoHeader;
}

std::optional<Response> Dashboard::handle(const Request& req) {
  const std::string_view path = req.path;
  if (path == "/") {
    if (req.method != "GET") return method_not_allowed("GET");
    return redirect(302, "/dashboard");
  }
  if (path != "/dashboard" && !path.starts_with("/dashboard/")) return std::nullopt;
  if (path == "/dashboard/login") return login(req);
  if (path == "/dashboard/logout") return logout(req);
  if (req.method != "GET") return method_not_allowed("GET");
  if (path == "/dashboard" || path == "/dashboard/") {
    if (!logged_in(req)) return login_page(200, "");
    return file(kHtml, kDashboardHtml);
  }
  if (path == "/dashboard/app.js") return file("text/javascript; charset=utf-8", kDashboardJs);
  if (path == "/dashboard/app.css") return file("text/css; charset=utf-8", kDashboardCss);
  if (path == "/dashboard/icon.svg") return file("image/svg+xml", kIcon);
  if (path == "/dashboard/events" || path == "/dashboard/snapshot") {
    if (!logged_in(req)) {
      return error(401, "unauthorized",
                   "log in at /dashboard first (the login cookie is missing "
                   "or has expired)");
    }
    if (path == "/dashboard/events") return events(req);
    std::string problem;
    std::string body = snapshot(req.query, problem);
    if (!problem.empty()) return error(400, "invalid_query", problem);
    Response r;
    r.body = std::move(body);
    return r;
  }
  return error(404, "not_found", "no such dashboard page: " + req.path);
}

Response Dashboard::login(const Request& req) {
  if (req.method != "POST") return method_not_allowed("POST");
  const registry::Millis now = registry::now_ms();
  if (!same_origin(req)) {
    return login_page(403, "This login came from another site (Origin " + req.header("origin") +
                               "); log in from this page.");
  }
  const std::string type = req.header("content-type");
  if (!type.starts_with("application/x-www-form-urlencoded")) {
    return login_page(415, "Send the login form as application/x-www-form-urlencoded.");
  }
  if (logins_.throttled(now)) {
    Response r = login_page(429, "Too many wrong tokens in the last minute; wait a minute.");
    r.headers.emplace_back("Retry-After", "60");
    return r;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  std::string token;
  if (parse_query(req.body, fields)) {
    for (auto& [k, v] : fields) {
      if (k == "token") token = std::move(v);
    }
  }
  if (token.empty()) return login_page(400, "Enter the admin token.");
  if (deps_.token.empty() || !Api::token_matches(token, deps_.token)) {
    logins_.failed(now);
    return login_page(401, "That is not the admin token of this router (admin.token).");
  }
  const std::string id = logins_.create(now);
  Response r = redirect(303, "/dashboard");
  r.headers.emplace_back("Set-Cookie", login_cookie(id, logins_.ttl() / 1000));
  return r;
}

Response Dashboard::logout(const Request& req) {
  if (req.method != "POST") return method_not_allowed("POST");
  if (!same_origin(req)) return error(403, "cross_site", "a logout from another site is refused");
  logins_.end(cookie_value(req.header("cookie"), kCookie));
  Response r = redirect(303, "/dashboard");
  r.headers.emplace_back("Set-Cookie", login_cookie("", 0));
  return r;
}

std::string Dashboard::snapshot(const std::string& query_string, std::string& error) const {
  DashboardQuery q;
  if (!parse_dashboard_query(query_string, q, error)) return {};
  DashboardInputs in{*deps_.registry, window_, deps_.health ? deps_.health() : json::object{},
                     deps_.errors ? deps_.errors() : std::vector<observe::RecentError>{},
                     registry::now_ms()};
  return json::serialize(build_snapshot(in, q));
}

Response Dashboard::events(const Request& req) {
  DashboardQuery checked;
  if (std::string problem; !parse_dashboard_query(req.query, checked, problem)) {
    return error(400, "invalid_query", problem);
  }
  if (streams_ >= kMaxStreams) {
    Response r = error(
        503, "too_many_streams",
        "the dashboard is open in " + std::to_string(kMaxStreams) + " windows already; close one");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  ++streams_;
  Response r;
  r.events = std::make_shared<EventStream>();
  const std::string login = std::string(cookie_value(req.header("cookie"), kCookie));
  r.events->next = [this, alive = std::weak_ptr<bool>(alive_), login, query = req.query,
                    told = false]() mutable -> std::optional<std::string> {
    auto a = alive.lock();
    if (!a || !*a) return std::nullopt;
    // A login that ended (logout, expiry) ends its streams: the page then shows the login.
    if (!logins_.valid(login, registry::now_ms())) {
      if (told) return std::nullopt;
      told = true;
      return std::string("event: logout\ndata: {}\n\n");
    }
    std::string problem;  // the query was checked when the stream began
    return "data: " + snapshot(query, problem) + "\n\n";
  };
  r.events->ended = [this, alive = std::weak_ptr<bool>(alive_)] {
    if (auto a = alive.lock(); a && *a) --streams_;
  };
  return r;
}

}  // namespace sg::admin
