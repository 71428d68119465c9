// `sessiongate agent`: runs in (or beside) a dev-server container and keeps its registration
// true. It registers the container `starting`, waits until the dev server answers HTTP on its
// port (readiness, not "the process started"), marks it `ready`, heartbeats well within the
// lease, registers again when the router no longer knows the container (a store reset, a
// delete), and on SIGTERM or SIGINT marks it `draining`, stops the dev server it started (if
// any) and marks it `stopped` before it exits. It authenticates with a scoped token
// (POST /v1/containers/{id}/tokens) or the admin token.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sg::app {

struct AgentOptions {
  std::string admin;      // --admin or SESSIONGATE_ADMIN
  std::string token;      // SESSIONGATE_TOKEN
  std::string container;  // --container or SESSIONGATE_CONTAINER
  std::string session;    // --session or SESSIONGATE_SESSION: created pointing at it
  int port = 0;           // --port or SESSIONGATE_PORT: the dev server's port
  std::string address;    // --address or SESSIONGATE_ADDRESS; empty: found (see agent.cc)
  std::string ready_host = "127.0.0.1";  // where the readiness probe asks the dev server
  std::string ready_path = "/";
  std::string lease = "30s";
  std::string ready_timeout = "120s";
  std::string stop_timeout = "10s";  // SIGTERM to the dev server, then SIGKILL
  std::vector<std::string> command;  // after `--`: the dev server, started and watched
};

// Adds the `agent` subcommand; `run` runs it (exit codes: 0 stopped on a signal, 1 the router
// or dev server failed, 2 bad arguments, 4 the router refused the registration; with a
// command, its own exit status when it ends first).
void add_agent_command(CLI::App& app, std::function<int()>& run);

}  // namespace sg::app
