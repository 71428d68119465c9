#include "net/listen_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sg::net {

int open_listen_socket(const boost::asio::ip::tcp::endpoint& ep, std::string& error) {
  const int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  const char* step = "socket";
  if (fd >= 0) {
    const int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      step = "SO_REUSEADDR";
    } else if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      step = "SO_REUSEPORT";
    } else if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0) {
      step = "bind";
    } else if (::listen(fd, 1024) != 0) {
      step = "listen";
    } else {
      return fd;
    }
  }
  const int e = errno;
  if (fd >= 0) ::close(fd);
  error = "cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) + ": " +
          std::string(std::strerror(e)) + " (" + step + ")";
  return -1;
}

}  // namespace sg::net
