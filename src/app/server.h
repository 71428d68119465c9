// Assembles workers from a validated configuration and runs them until SIGTERM/SIGINT.
#pragma once

#include "app/config.h"

namespace sg::app {

// Returns the process exit code.
int serve(const Config& config);

}  // namespace sg::app
