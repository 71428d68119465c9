// The last answers a worker gave with status 400 or more, for the dashboard. The ring is the
// worker's own (no lock on the request path; entries reuse their strings, so a flood of errors
// allocates nothing once the ring is warm); when asked (publish(), on the worker's thread) it
// copies the ring to a published copy that other threads read under a mutex.
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

  // The worker's thread only.
  void add(int64_t time_ms, int status, std::string_view outcome, std::string_view protocol,
           std::string_view method, std::string_view path, std::string_view session,
           std::string_view container, std::string_view request_id, std::string_view client);
  void publish();
  // Any thread: appends what was last published, oldest first.
  void copy_to(std::vector<RecentError>& out) const;

 private:
  std::array<RecentError, kSize> ring_;
  size_t next_ = 0;
  size_t count_ = 0;
  uint64_t added_ = 0;  // ever, so an unchanged ring is not copied again
  uint64_t published_at_ = 0;
  mutable std::mutex mutex_;
  std::vector<RecentError> published_;  // under mutex_
};

}  // namespace sg::observe
