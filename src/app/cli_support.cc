#include "app/cli_support.h"

#include <cstdlib>
#include <iostream>

#include "http/pages.h"

namespace sg::app::cli {

AdminTarget target(const Options& o) {
  AdminTarget t;
  if (const char* env = std::getenv("SESSIONGATE_ADMIN")) t.url = env;
  if (!o.admin.empty()) t.url = o.admin;
  if (const char* tok = std::getenv("SESSIONGATE_TOKEN")) t.token = tok;
  return t;
}

std::string str(const json::value* v) {
  if (!v) return "-";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_null()) return "-";
  return json::serialize(*v);
}

std::string ago(int64_t ms_epoch) {
  if (ms_epoch <= 0) return "-";
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  int64_t d = (now - ms_epoch) / 1000;
  if (d < 0) return "in " + std::to_string(-d) + "s";
  if (d < 120) return std::to_string(d) + "s ago";
  if (d < 7200) return std::to_string(d / 60) + "m ago";
  return std::to_string(d / 3600) + "h ago";
}

std::string duration(int64_t ms) {
  if (ms <= 0) return "-";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    if (width.size() < r.size()) width.resize(r.size());
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      std::cout << r[i];
      if (i + 1 < r.size()) std::cout << std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << "\n";
  }
}

std::vector<std::string> container_row(const json::object& c) {
  return {str(c.if_contains("id")),
          str(c.if_contains("address")),
          str(c.if_contains(c.contains("state") ? "state" : "status")),
          str(c.if_contains("generation")),
          duration(c.at("lease_ttl_ms").to_number<int64_t>()),
          ago(c.at("heartbeat_at").to_number<int64_t>())};
}

std::vector<std::string> session_row(const json::object& s) {
  std::string labels;
  for (const auto& kv : s.at("labels").as_object()) {
    labels += (labels.empty() ? "" : ",") + std::string(kv.key()) + "=" + str(&kv.value());
  }
  return {str(s.if_contains("id")),
          str(s.if_contains("container_id")),
          duration(s.at("idle_ttl_ms").to_number<int64_t>()),
          ago(s.at("last_active_at").to_number<int64_t>()),
          s.at("expires_at").to_number<int64_t>() > 0 ? ago(s.at("expires_at").to_number<int64_t>())
                                                      : "-",
          labels.empty() ? "-" : labels};
}

// Sends the call and prints the outcome; `show` prints a successful JSON body for people.
int call(const Options& o, const std::string& method, const std::string& path,
         const std::string& body, const std::function<void(const json::value&)>& show) {
  AdminReply r = admin_call(target(o), method, path, body);
  if (r.status == 0) {
    std::cerr << "sessiongate: " << r.error << "\n";
    return r.bad_target ? 2 : 1;  // a malformed --admin is a bad argument
  }
  json::error_code ec;
  json::value v = r.body.empty() ? json::value() : json::parse(r.body, ec);
  if (r.status >= 200 && r.status < 300) {
    if (o.json) {
      if (!r.body.empty()) std::cout << r.body;
    } else if (show) {
      show(v);
    }
    return 0;
  }
  std::string message = r.body;
  if (!ec && v.is_object() && v.as_object().contains("message")) {
    message = str(v.as_object().if_contains("message"));
    if (auto* f = v.as_object().if_contains("field")) message = str(f) + ": " + message;
  }
  const json::array* lines = nullptr;
  if (!ec && v.is_object()) {
    if (auto* e = v.as_object().if_contains("errors"); e && e->is_array()) lines = &e->as_array();
  }
  if (o.json) {
    std::cout << r.body;
  } else if (lines && !lines->empty()) {
    // One problem per line (a reload's file:line:col errors), as `config check` prints them.
    std::cerr << "sessiongate: " << r.status << " " << http::status_text(r.status) << ":\n";
    for (const auto& l : *lines) std::cerr << str(&l) << "\n";
  } else {
    std::cerr << "sessiongate: " << r.status << " " << http::status_text(r.status) << ": "
              << message << "\n";
  }
  if (r.status == 404) return 3;
  if (r.status >= 400 && r.status < 500) return 4;
  return 1;
}

std::string json_string(const std::string& s) {
  return json::serialize(json::value(s));
}

void common_options(CLI::App* cmd, Options& o) {
  cmd->add_option("--admin", o.admin,
                  "Admin API URL (default $SESSIONGATE_ADMIN or http://127.0.0.1:9901)");
  cmd->add_flag("--json", o.json, "Print the API's JSON instead of a table");
}

}  // namespace sg::app::cli
