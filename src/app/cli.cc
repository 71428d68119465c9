#include "app/cli.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>

#include "app/admin_client.h"
#include "http/pages.h"

namespace sg::app {

namespace json = boost::json;

namespace {

struct Options {
  std::string admin;
  bool json = false;
  // container
  std::string id;
  std::string address;
  std::string status;
  std::string lease;
  // session
  std::string container;
  std::string idle_ttl;
  std::string sleep_after;
  std::string expires_in;
  std::vector<std::string> labels;
  std::string label_filter;
  size_t limit = 0;
  std::string after;
};

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
    return 1;
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

}  // namespace

void add_admin_commands(CLI::App& app, std::function<int()>& run) {
  auto o = std::make_shared<Options>();
  auto common = [o](CLI::App* cmd) {
    cmd->add_option("--admin", o->admin,
                    "Admin API URL (default $SESSIONGATE_ADMIN or http://127.0.0.1:9901)");
    cmd->add_flag("--json", o->json, "Print the API's JSON instead of a table");
  };

  auto* container = app.add_subcommand("container", "Manage containers (admin API client)");
  container->require_subcommand(1);
  auto* reg = container->add_subcommand("register", "Register or re-register a container");
  reg->add_option("id", o->id, "Container id")->required();
  reg->add_option("--address", o->address, "IP:PORT of its dev server")->required();
  reg->add_option("--status", o->status,
                  "starting | ready | draining | stopped | failed (default ready)");
  reg->add_option("--lease", o->lease, "Lease, e.g. 30s: heartbeat more often than this");
  common(reg);
  reg->callback([o, &run] {
    run = [o] {
      std::string body = "{\"address\":" + json_string(o->address);
      if (!o->status.empty()) body += ",\"status\":" + json_string(o->status);
      if (!o->lease.empty()) body += ",\"lease_ttl\":" + json_string(o->lease);
      body += "}";
      return call(*o, "PUT", "/v1/containers/" + o->id, body, [](const json::value& v) {
        print_table({{"ID", "ADDRESS", "STATE", "GEN", "LEASE", "HEARTBEAT"},
                     container_row(v.as_object())});
      });
    };
  });
  auto* hb = container->add_subcommand("heartbeat", "Renew a container's lease");
  hb->add_option("id", o->id, "Container id")->required();
  common(hb);
  hb->callback([o, &run] {
    run = [o] {
      return call(
          *o, "POST", "/v1/containers/" + o->id + "/heartbeat", "", [](const json::value& v) {
            std::cout << "lease renewed: " << str(v.as_object().if_contains("id")) << " until "
                      << ago(v.at("lease_expires_at").to_number<int64_t>()) << "\n";
          });
    };
  });
  auto* cshow = container->add_subcommand("show", "Show one container");
  cshow->add_option("id", o->id, "Container id")->required();
  common(cshow);
  cshow->callback([o, &run] {
    run = [o] {
      return call(*o, "GET", "/v1/containers/" + o->id, "", [](const json::value& v) {
        print_table({{"ID", "ADDRESS", "STATE", "GEN", "LEASE", "HEARTBEAT"},
                     container_row(v.as_object())});
      });
    };
  });
  auto* clist = container->add_subcommand("list", "List containers");
  common(clist);
  clist->callback([o, &run] {
    run = [o] {
      return call(*o, "GET", "/v1/containers", "", [](const json::value& v) {
        std::vector<std::vector<std::string>> rows{
            {"ID", "ADDRESS", "STATE", "GEN", "LEASE", "HEARTBEAT"}};
        for (const auto& c : v.at("containers").as_array())
          rows.push_back(container_row(c.as_object()));
        print_table(rows);
      });
    };
  });
  auto* cdel = container->add_subcommand("delete", "Delete a container (its sessions stay)");
  cdel->add_option("id", o->id, "Container id")->required();
  common(cdel);
  cdel->callback([o, &run] {
    run = [o] {
      return call(*o, "DELETE", "/v1/containers/" + o->id, "",
                  [o](const json::value&) { std::cout << "deleted container " << o->id << "\n"; });
    };
  });

  auto* reload = app.add_subcommand(
      "reload", "Reload the router's configuration file (admin API client; as SIGHUP does)");
  common(reload);
  reload->callback([o, &run] {
    run = [o] {
      const int rc = call(*o, "POST", "/v1/config/reload", "", [](const json::value& v) {
        std::cout << "reloaded: generation " << v.at("generation").to_number<uint64_t>() << " ("
                  << str(v.as_object().if_contains("message")) << ") in "
                  << v.at("took_ms").to_number<int64_t>() << " ms\n";
      });
      if (rc != 0 && !o->json) {
        std::cerr << "sessiongate: nothing changed; the running configuration stays in force\n";
      }
      return rc;
    };
  });

  auto* session = app.add_subcommand("session", "Manage sessions (admin API client)");
  session->require_subcommand(1);
  auto* create = session->add_subcommand("create", "Create or re-point a session");
  create->add_option("id", o->id, "Session (thread) id")->required();
  create->add_option("--container", o->container, "Container id")->required();
  create->add_option("--idle-ttl", o->idle_ttl, "Expire after this much inactivity, e.g. 30m");
  create->add_option("--expires-in", o->expires_in, "Expire at the latest after, e.g. 24h");
  create->add_option("--sleep-after", o->sleep_after,
                     "Let its container sleep after this much inactivity (e.g. 5m), or never");
  create->add_option("--label", o->labels, "key=value (repeatable)");
  common(create);
  create->callback([o, &run] {
    run = [o]() -> int {
      json::object body;
      body["container_id"] = o->container;
      if (!o->idle_ttl.empty()) body["idle_ttl"] = o->idle_ttl;
      if (!o->expires_in.empty()) body["expires_in"] = o->expires_in;
      if (!o->sleep_after.empty()) body["sleep_after"] = o->sleep_after;
      json::object labels;
      for (const auto& l : o->labels) {
        size_t eq = l.find('=');
        if (eq == std::string::npos || eq == 0) {
          std::cerr << "sessiongate: --label takes key=value, got '" << l << "'\n";
          return 2;
        }
        labels[l.substr(0, eq)] = l.substr(eq + 1);
      }
      if (!labels.empty()) body["labels"] = labels;
      return call(*o, "PUT", "/v1/sessions/" + o->id, json::serialize(body),
                  [](const json::value& v) {
                    print_table({{"ID", "CONTAINER", "IDLE_TTL", "ACTIVE", "EXPIRES", "LABELS"},
                                 session_row(v.as_object())});
                  });
    };
  });
  auto* sshow = session->add_subcommand("show", "Show one session and its route");
  sshow->add_option("id", o->id, "Session id")->required();
  common(sshow);
  sshow->callback([o, &run] {
    run = [o]() -> int {
      int rc = call(*o, "GET", "/v1/sessions/" + o->id, "", [](const json::value& v) {
        print_table({{"ID", "CONTAINER", "IDLE_TTL", "ACTIVE", "EXPIRES", "LABELS"},
                     session_row(v.as_object())});
      });
      if (rc != 0) return rc;
      return call(*o, "GET", "/v1/routes/" + o->id, "", [](const json::value& v) {
        std::cout << "route: " << str(v.as_object().if_contains("state")) << " — "
                  << str(v.as_object().if_contains("reason")) << "\n";
      });
    };
  });
  auto* slist = session->add_subcommand("list", "List sessions");
  slist->add_option("--label", o->label_filter, "Only sessions with this key=value label");
  slist->add_option("--limit", o->limit, "At most this many (1-1000, default 100)");
  slist->add_option("--after", o->after, "Start after this session id (paging)");
  common(slist);
  slist->callback([o, &run] {
    run = [o] {
      std::string q;
      auto add = [&q](const std::string& k, const std::string& v) {
        std::string enc;
        for (unsigned char c : v) {
          if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
            enc += static_cast<char>(c);
          } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            enc += buf;
          }
        }
        q += (q.empty() ? "?" : "&") + k + "=" + enc;
      };
      if (!o->label_filter.empty()) add("label", o->label_filter);
      if (o->limit) add("limit", std::to_string(o->limit));
      if (!o->after.empty()) add("after", o->after);
      return call(*o, "GET", "/v1/sessions" + q, "", [](const json::value& v) {
        std::vector<std::vector<std::string>> rows{
            {"ID", "CONTAINER", "IDLE_TTL", "ACTIVE", "EXPIRES", "LABELS"}};
        for (const auto& s : v.at("sessions").as_array())
          rows.push_back(session_row(s.as_object()));
        print_table(rows);
        if (!v.at("next").is_null()) {
          std::cout << "more: --after " << str(v.as_object().if_contains("next")) << "\n";
        }
      });
    };
  });
  auto* sdel = session->add_subcommand("delete", "Delete a session (closes its tunnels)");
  sdel->add_option("id", o->id, "Session id")->required();
  common(sdel);
  sdel->callback([o, &run] {
    run = [o] {
      return call(*o, "DELETE", "/v1/sessions/" + o->id, "",
                  [o](const json::value&) { std::cout << "deleted session " << o->id << "\n"; });
    };
  });
}

}  // namespace sg::app
