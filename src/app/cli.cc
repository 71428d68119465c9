#include "app/cli.h"

#include <iostream>

#include "app/cli_support.h"

namespace sg::app {

void add_admin_commands(CLI::App& app, std::function<int()>& run) {
  using namespace cli;
  auto o = std::make_shared<Options>();
  add_container_commands(app, o, run);
  add_session_commands(app, o, run);
  add_link_commands(app.get_subcommand("session"), app.get_subcommand("container"), o, run);
  auto* reload = app.add_subcommand(
      "reload", "Reload the router's configuration file (admin API client; as SIGHUP does)");
  common_options(reload, *o);
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
}

}  // namespace sg::app
