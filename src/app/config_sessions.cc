// sessions: affinity cookie, activity reporting, sweeps, leases, the starting page.
#include "app/config_reader.h"

#include <cctype>

namespace sg::app {

void read_sessions(Reader& r, const YAML::Node& se, Config& cfg) {
  if (r.mapping(se, "sessions",
                {"cookie_name", "activity_interval", "sweep_interval", "default_lease",
                 "starting_retry_after", "sleep_after"})) {
    if (se["cookie_name"]) {
      std::string v;
      r.scalar(se["cookie_name"], "cookie_name", v);
      bool ok = !v.empty() && v.size() <= 64;
      for (char c : v)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
      if (!ok) r.error(se["cookie_name"], "cookie_name must be 1-64 letters, digits, '-' or '_'");
      cfg.sessions.cookie_name = v;
    }
    r.duration(se, "activity_interval", "sessions", cfg.sessions.activity_interval);
    r.duration(se, "sweep_interval", "sessions", cfg.sweep_interval);
    r.duration(se, "default_lease", "sessions", cfg.default_lease);
    Millis retry{cfg.sessions.starting_retry_after * 1000};
    r.duration(se, "starting_retry_after", "sessions", retry);
    cfg.sessions.starting_retry_after =
        static_cast<int>(std::max<int64_t>(1, retry.count() / 1000));
    if (const YAML::Node s = se["sleep_after"]; s && !(s.IsScalar() && s.Scalar() == "0")) {
      r.duration(se, "sleep_after", "sessions", cfg.wake.sleep_after);
      if (cfg.wake.sleep_after < Millis(1000)) {
        r.error(s, "sessions.sleep_after must be 0 (never) or at least 1s");
      }
    }
  }
}

}  // namespace sg::app
