// `sessiongate session ...`: create, show, list, delete.
#include <iostream>

#include "app/cli_support.h"

namespace sg::app::cli {

void add_session_commands(CLI::App& app, const OptionsPtr& o, std::function<int()>& run) {
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
  create
      ->add_option("--access", o->access,
                   "default (the router's security.access_default), public, or link")
      ->check(CLI::IsMember({"default", "public", "link"}));
  common_options(create, *o);
  create->callback([o, &run] {
    run = [o]() -> int {
      json::object body;
      body["container_id"] = o->container;
      if (!o->idle_ttl.empty()) body["idle_ttl"] = o->idle_ttl;
      if (!o->expires_in.empty()) body["expires_in"] = o->expires_in;
      if (!o->sleep_after.empty()) body["sleep_after"] = o->sleep_after;
      if (!o->access.empty()) body["access"] = o->access;
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
  common_options(sshow, *o);
  sshow->callback([o, &run] {
    run = [o]() -> int {
      if (o->json) {  // one document: {"session": ..., "route": ...}
        Options quiet = *o;
        quiet.json = false;
        json::object both;
        int rc = call(quiet, "GET", "/v1/sessions/" + o->id, "",
                      [&](const json::value& v) { both["session"] = v; });
        if (rc == 0) {
          rc = call(quiet, "GET", "/v1/routes/" + o->id, "",
                    [&](const json::value& v) { both["route"] = v; });
        }
        if (rc == 0) std::cout << json::serialize(both) << "\n";
        return rc;
      }
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
  slist->add_option("--limit", o->limit, "At most this many (1-1000, default 100)")
      ->check(CLI::Range(1, 1000));
  slist->add_option("--after", o->after, "Start after this session id (paging)");
  common_options(slist, *o);
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
  common_options(sdel, *o);
  sdel->callback([o, &run] {
    run = [o] {
      return call(*o, "DELETE", "/v1/sessions/" + o->id, "",
                  [o](const json::value&) { std::cout << "deleted session " << o->id << "\n"; });
    };
  });
}

}  // namespace sg::app::cli
