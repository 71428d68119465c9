// The admin API's request handling (JSON bodies, paths, query strings) against a real store:
// every input gets a response with a valid status and a JSON body; nothing crashes.
#include <unistd.h>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "admin/api.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"

namespace {

struct Env {
  std::string err;
  std::string path = (std::filesystem::temp_directory_path() /
                      ("sg-fuzz-admin-" + std::to_string(::getpid()) + ".db"))
                         .string();
  sg::registry::SqliteStore store{path, false, err};
  sg::registry::Registry registry{store, [](const std::string&, sg::registry::RoutePtr) {}};
  sg::admin::Api api{registry, settings()};
  static sg::admin::ApiSettings settings() {
    sg::admin::ApiSettings s;
    s.token = "fuzz-token-123";
    s.policy = sg::net::AddressPolicy({}, {});
    return s;
  }
  ~Env() {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env env;
  if (size < 1) return 0;
  static const char* kMethods[] = {"GET", "PUT", "POST", "DELETE"};
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nl = in.find('\n');
  sg::admin::Request req;
  req.method = kMethods[data[0] % 4];
  std::string_view target = in.substr(0, nl);
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  if (nl != std::string_view::npos) req.body = std::string(in.substr(nl + 1));
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
