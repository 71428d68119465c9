// Registers the `container` and `session` subcommands (a client of the admin API).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace sg::app {

// Adds the subcommands to `app`; after parsing, `run` performs the chosen one and returns the
// exit code (0 ok, 1 unreachable or server error, 3 not found, 4 rejected request).
void add_admin_commands(CLI::App& app, std::function<int()>& run);

}  // namespace sg::app
