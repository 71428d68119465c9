#include "app/service_notify.h"

#include <systemd/sd-daemon.h>

namespace sg::app {

void notify_ready(const std::string& status) {
  const std::string msg = "READY=1\nSTATUS=" + status;
  sd_notify(0, msg.c_str());
}

void notify_reloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
}

}  // namespace sg::app
