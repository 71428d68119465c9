// Shared by the admin-side fuzz targets: a throwaway SQLite registry, and one admin request
// decoded from the fuzzer's bytes (first byte: method and flags; then "target\nbody").
#pragma once

#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "admin/http_server.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"

namespace sg::fuzz {

struct TempRegistry {
  explicit TempRegistry(const std::string& name)
      : path((std::filesystem::temp_directory_path() /
              (name + "-" + std::to_string(::getpid()) + ".db"))
                 .string()) {}
  ~TempRegistry() {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
  }
  std::string path;
  std::string err;
  registry::SqliteStore store{path, false, err};
  registry::Registry registry{store, [](const std::string&, registry::RoutePtr) {}};
};

// `methods` has four entries; data[0] % 4 picks one, the other bits are the caller's flags.
inline admin::Request admin_request(const uint8_t* data, size_t size, const char* const* methods) {
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nl = in.find('\n');
  admin::Request req;
  req.method = methods[data[0] % 4];
  std::string_view target = in.substr(0, nl);
  const size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  if (nl != std::string_view::npos) req.body = std::string(in.substr(nl + 1));
  return req;
}

}  // namespace sg::fuzz
