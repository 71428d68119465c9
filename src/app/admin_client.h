// The CLI's side of the admin API: one blocking HTTP/1.1 request per call, with timeouts.
#pragma once

#include <string>

namespace sg::app {

struct AdminTarget {
  std::string url = "http://127.0.0.1:9901";  // --admin, or SESSIONGATE_ADMIN
  std::string token;                          // SESSIONGATE_TOKEN
  int timeout_ms = 10000;                     // connect, each write and each read
  const char* what = "the admin API";         // for messages
};

struct AdminReply {
  int status = 0;  // 0 when no HTTP answer was received
  std::string body;
  std::string error;        // transport problem, when status == 0
  bool bad_target = false;  // the URL itself is malformed (nothing was sent)
};

// Also the agent's readiness probe of a dev server (any http://IP:PORT, no token).
AdminReply admin_call(const AdminTarget& target, const std::string& method, const std::string& path,
                      const std::string& body = {});

}  // namespace sg::app
