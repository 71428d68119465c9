// The last answers a worker gave with status 400 or more, for the dashboard. Written by its
// worker, copied by the control plane: a fixed ring under a mutex nobody holds for long (the
// entries reuse their strings, so a flood of errors allocates nothing once the ring is warm).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sg::observe {

struct RecentError {
  int64_t time_ms = 0;
  int status = 0;
  std::string_view outcome;   // a static name
  std::string_view protocol;  // a static name
  std::string method, path, session, container, request_id, client;
};

class RecentErrors {
 public:
  static constexpr size_t kSize = 64;
  static constexpr size_t kMaxField = 256;  // longer paths are cut

  // Fields longer than kMaxField are cut.
  void add(int64_t time_ms, int status, std::string_view outcome, std::string_view protocol,
           std::string_view method, std::string_view path, std::string_view session,
           std::string_view container, std::string_view request_id, std::string_view client);
  // Appends what the ring holds, oldest first.
  void copy_to(std::vector<RecentError>& out) const;

 private:
  mutable std::mutex mutex_;
  std::array<RecentError, kSize> ring_;
  size_t next_ = 0;
  size_t count_ = 0;
};

}  // namespace sg::observe
