// What the CLI adds over the records: preview links (issue, revoke), a session's route, and
// scoped container tokens.
#include <iostream>

#include "app/cli_support.h"

namespace sg::app::cli {

void add_link_commands(CLI::App* session, CLI::App* container, const OptionsPtr& o,
                       std::function<int()>& run) {
  auto* link = session->add_subcommand("link", "Issue a signed preview link for a session");
  link->add_option("id", o->id, "Session id")->required();
  link->add_option("--ttl", o->ttl, "How long the link opens the preview, e.g. 1h (default 1h)");
  common_options(link, *o);
  link->callback([o, &run] {
    run = [o] {
      json::object body;
      if (!o->ttl.empty()) body["ttl"] = o->ttl;
      return call(*o, "POST", "/v1/sessions/" + o->id + "/links", json::serialize(body),
                  [](const json::value& v) {
                    std::cout << "query: ?" << str(v.as_object().if_contains("query")) << "\n"
                              << "expires: " << ago(v.at("expires_at").to_number<int64_t>())
                              << "\n";
                  });
    };
  });
  auto* revoke = session->add_subcommand(
      "revoke-links", "Revoke every preview link and access cookie of a session, at once");
  revoke->add_option("id", o->id, "Session id")->required();
  common_options(revoke, *o);
  revoke->callback([o, &run] {
    run = [o] {
      return call(*o, "POST", "/v1/sessions/" + o->id + "/revoke-links", "",
                  [o](const json::value& v) {
                    std::cout << "revoked every link of " << o->id << " (link epoch "
                              << str(v.as_object().if_contains("link_epoch")) << ")\n";
                  });
    };
  });
  auto* route = session->add_subcommand("route", "What a request for the session reaches, and why");
  route->add_option("id", o->id, "Session id")->required();
  common_options(route, *o);
  route->callback([o, &run] {
    run = [o] {
      return call(*o, "GET", "/v1/routes/" + o->id, "", [](const json::value& v) {
        std::cout << str(v.as_object().if_contains("state")) << " — "
                  << str(v.as_object().if_contains("reason")) << "\n";
      });
    };
  });
  auto* token = container->add_subcommand(
      "token", "Mint a scoped token: the container's own credential, for its agent");
  token->add_option("id", o->id, "Container id")->required();
  token->add_option("--ttl", o->ttl, "How long it is valid, 1m to 30d (default 1d)");
  token->add_flag("--sessions", o->sessions,
                  "It may also create and update sessions that point at this container");
  common_options(token, *o);
  token->callback([o, &run] {
    run = [o] {
      json::object body{{"sessions", o->sessions}};
      if (!o->ttl.empty()) body["ttl"] = o->ttl;
      return call(*o, "POST", "/v1/containers/" + o->id + "/tokens", json::serialize(body),
                  [](const json::value& v) {
                    std::cout << str(v.as_object().if_contains("token")) << "\n";
                  });
    };
  });
}

}  // namespace sg::app::cli
