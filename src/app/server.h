// Assembles workers from a validated configuration and runs them until SIGTERM/SIGINT.
#pragma once

#include "app/config.h"

namespace sg::app {

// Returns the process exit code. `upgrade`: take the listening sockets over from the router
// serving on config.upgrade_socket, then tell it to drain.
int serve(const Config& config, bool upgrade = false);

}  // namespace sg::app
