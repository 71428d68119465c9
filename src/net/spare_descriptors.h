// Descriptors held in reserve for the moment the process runs out: closing one lets a single
// accept() succeed when every other descriptor is taken, so the admin API can still answer
// /healthz and /metrics while the data plane is at its limit (the classic "spare fd" of
// nginx-era servers). Each spare is an open /dev/null.
#pragma once

#include <cstddef>
#include <vector>

namespace sg::net {

class SpareDescriptors {
 public:
  explicit SpareDescriptors(size_t count);
  ~SpareDescriptors();
  SpareDescriptors(const SpareDescriptors&) = delete;
  SpareDescriptors& operator=(const SpareDescriptors&) = delete;

  // Closes every spare held; false when none was.
  bool release();
  // Reopens the missing spares, as many as the limit allows now.
  void refill();
  size_t held() const { return fds_.size(); }

 private:
  size_t want_;
  std::vector<int> fds_;
};

}  // namespace sg::net
