// The admin API's request handling (JSON bodies, paths, query strings) against a real store:
// every input gets a response with a valid status and a JSON body; nothing crashes.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "admin/api.h"
#include "admin_fuzz_input.h"

namespace {

struct Env {
  sg::fuzz::TempRegistry tmp{"sg-fuzz-admin"};
  sg::admin::Api api{tmp.registry, settings()};
  static sg::admin::ApiSettings settings() {
    sg::admin::ApiSettings s;
    s.token = "fuzz-token-123";
    s.policy = sg::net::AddressPolicy({}, {});
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env env;
  if (size < 1) return 0;
  static const char* kMethods[] = {"GET", "PUT", "POST", "DELETE"};
  sg::admin::Request req = sg::fuzz::admin_request(data, size, kMethods);
  req.headers.emplace_back("authorization", "Bearer fuzz-token-123");
  sg::admin::Response res = env.api.handle(req);
  if (res.status < 200 || res.status > 599) std::abort();
  // Every answer that says it is JSON must be JSON (/metrics is Prometheus text).
  if (res.status != 204 && res.content_type == "application/json") {
    boost::json::error_code ec;
    boost::json::parse(res.body, ec);
    if (ec) std::abort();
  }
  return 0;
}
