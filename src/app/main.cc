// sessiongate command line: serve, config check, and the admin API client commands.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/agent.h"
#include "app/certificates.h"
#include "app/cli.h"
#include "app/completion.h"
#include "app/config.h"
#include "app/server.h"
#include "app/version.h"

namespace {

void print_errors(const std::string& path, const std::vector<sg::app::ConfigError>& errors) {
  std::cerr << sg::app::format_config_errors(path, errors);
}

}  // namespace

// CLI11 answers `container bogus` with "A subcommand is required": name the word instead.
bool unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return false;
    const auto subs = at->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) return false;
    const CLI::App* next = nullptr;
    std::string known;
    for (const CLI::App* s : subs) {
      known += (known.empty() ? "" : ", ") + s->get_name();
      if (s->get_name() == word) next = s;
    }
    if (!next) {
      std::cerr << "sessiongate: unknown "
                << (at == &app ? std::string("command") : "subcommand of " + at->get_name()) << " '"
                << word << "' (known: " << known << ")\n";
      return true;
    }
    at = next;
  }
  return false;
}

int main(int argc, char** argv) {
  CLI::App app{"sessiongate: a session router for preview environments"};
  app.set_version_flag("--version", sg::app::version_line());
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 runtime failure or unreachable admin API, 2 invalid configuration or "
      "arguments, 3 not found, 4 request rejected by the admin API.\n"
      "Environment: SESSIONGATE_ADMIN (admin API URL), SESSIONGATE_TOKEN (admin token).");

  std::function<int()> run;

  std::string serve_config;
  auto* serve = app.add_subcommand("serve", "Run the proxy");
  serve->add_option("-c,--config", serve_config, "Configuration file (YAML)")->required();
  bool upgrade = false;
  serve->add_flag(
      "--upgrade", upgrade,
      "Take the listening sockets over from the router serving on the configuration's "
      "upgrade_socket, then make it drain (a binary upgrade that refuses no connection)");
  serve->callback([&] {
    run = [&] {
      sg::app::Config cfg;
      std::vector<sg::app::ConfigError> errors;
      if (!sg::app::load_config(serve_config, cfg, errors)) {
        print_errors(serve_config, errors);
        return 2;
      }
      return sg::app::serve(cfg, upgrade);
    };
  });

  auto* config = app.add_subcommand("config", "Work with configuration files");
  config->require_subcommand(1);
  std::string check_path;
  auto* check = config->add_subcommand("check", "Validate a configuration file and exit");
  check->add_option("file", check_path, "Configuration file (YAML)")->required();
  bool syntax_only = false;
  check->add_flag("--syntax-only", syntax_only,
                  "Check the file alone, not the certificate files it names");
  check->callback([&] {
    run = [&] {
      sg::app::Config cfg;
      std::vector<sg::app::ConfigError> errors;
      if (!sg::app::load_config(check_path, cfg, errors)) {
        print_errors(check_path, errors);
        return 2;
      }
      if (!syntax_only && !sg::app::check_certificates(cfg.listeners, std::cerr)) return 2;
      std::cout << check_path << ": ok (" << cfg.listeners.size() << " listener"
                << (cfg.listeners.size() == 1 ? "" : "s") << ", " << cfg.rules.size() << " rule"
                << (cfg.rules.size() == 1 ? "" : "s") << ")\n";
      return 0;
    };
  });

  sg::app::add_admin_commands(app, run);
  sg::app::add_agent_command(app, run);

  std::string shell;
  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->add_option("shell", shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&] {
    run = [&] {
      std::cout << sg::app::completion_script(app, shell);
      return 0;
    };
  });

  if (unknown_subcommand(app, argc, argv)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return run ? run() : 2;
}
