// sessiongate command line: serve, config check.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/config.h"
#include "app/server.h"
#include "app/version.h"

namespace {

void print_errors(const std::string& path, const std::vector<sg::app::ConfigError>& errors) {
  for (const auto& e : errors) {
    std::cerr << path;
    if (e.line > 0) std::cerr << ":" << e.line << ":" << e.column;
    std::cerr << ": error: " << e.message << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sessiongate: a session router for preview environments"};
  app.set_version_flag("--version", std::string("sessiongate ") + sg::app::kVersion);
  app.require_subcommand(1);

  std::string serve_config;
  auto* serve = app.add_subcommand("serve", "Run the proxy");
  serve->add_option("-c,--config", serve_config, "Configuration file (YAML)")->required();

  auto* config = app.add_subcommand("config", "Work with configuration files");
  config->require_subcommand(1);
  std::string check_path;
  auto* check = config->add_subcommand("check", "Validate a configuration file and exit");
  check->add_option("file", check_path, "Configuration file (YAML)")->required();

  CLI11_PARSE(app, argc, argv);

  if (*serve) {
    sg::app::Config cfg;
    std::vector<sg::app::ConfigError> errors;
    if (!sg::app::load_config(serve_config, cfg, errors)) {
      print_errors(serve_config, errors);
      return 2;
    }
    return sg::app::serve(cfg);
  }
  if (*check) {
    sg::app::Config cfg;
    std::vector<sg::app::ConfigError> errors;
    if (!sg::app::load_config(check_path, cfg, errors)) {
      print_errors(check_path, errors);
      return 2;
    }
    std::cout << check_path << ": ok (" << cfg.listeners.size() << " listener"
              << (cfg.listeners.size() == 1 ? "" : "s") << ", " << cfg.rules.size() << " rule"
              << (cfg.rules.size() == 1 ? "" : "s") << ")\n";
    return 0;
  }
  return 0;
}
