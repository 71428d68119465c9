#include "net/spare_descriptors.h"

#include <fcntl.h>
#include <unistd.h>

namespace sg::net {

SpareDescriptors::SpareDescriptors(size_t count) : want_(count) {
  fds_.reserve(count);
  refill();
}

SpareDescriptors::~SpareDescriptors() {
  release();
}

bool SpareDescriptors::release() {
  const bool had = !fds_.empty();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  return had;
}

void SpareDescriptors::refill() {
  while (fds_.size() < want_) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    fds_.push_back(fd);
  }
}

}  // namespace sg::net
