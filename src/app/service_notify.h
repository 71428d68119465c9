// Tells systemd (Type=notify) where the router is: ready once it accepts, reloading, stopping.
// Without $NOTIFY_SOCKET (not started by systemd) every call does nothing.
#pragma once

#include <string>

namespace sg::app {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();

}  // namespace sg::app
