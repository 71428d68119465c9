// admin: the admin API listener and its token.
#include "app/config_reader.h"

#include <cstdlib>

#include "net/address.h"

namespace sg::app {

void read_admin(Reader& r, const YAML::Node& a, Config& cfg) {
  if (r.mapping(a, "admin", {"address", "token", "token_env", "token_keys", "dashboard"})) {
    if (const YAML::Node d = a["dashboard"]) {
      std::string v;
      if (r.scalar(d, "dashboard", v)) {
        if (v != "true" && v != "false") {
          r.error(d, "admin.dashboard must be true or false, not '" + v + "'");
        }
        cfg.admin.dashboard = v != "false";
      }
    }
    if (const YAML::Node keys = a["token_keys"]) {
      read_signing_keys(r, keys, "admin.token_keys", "token key", cfg.admin.token_keys);
    }
    std::string addr;
    if (!a["address"]) {
      r.error(a, "admin.address is required (IP:PORT, e.g. 127.0.0.1:9090)");
    } else if (r.scalar(a["address"], "address", addr)) {
      if (std::string why = net::endpoint_problem(addr, cfg.admin.endpoint); !why.empty()) {
        r.error(a["address"], "admin.address '" + addr + "': " + why);
      }
    }
    cfg.admin.address_text = addr;
    cfg.admin.enabled = true;
    if (a["token"] && a["token_env"]) r.error(a, "admin takes token or token_env, not both");
    if (a["token"]) r.scalar(a["token"], "token", cfg.admin.token);
    if (a["token_env"]) {
      std::string var;
      if (r.scalar(a["token_env"], "token_env", var)) {
        const char* v = std::getenv(var.c_str());
        if (!v || !*v) {
          r.error(a["token_env"], "admin.token_env: environment variable " + var + " is not set");
        } else {
          cfg.admin.token = v;
        }
      }
    }
    if (!a["token"] && !a["token_env"]) {
      r.error(a, "admin needs a token (or token_env): the admin API is never open");
    } else if (!cfg.admin.token.empty() && cfg.admin.token.size() < 8) {
      r.error(a["token"] ? a["token"] : a["token_env"],
              "admin token must be at least 8 characters");
    }
  }
}

}  // namespace sg::app
