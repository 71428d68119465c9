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

bool address_is_free(const boost::asio::ip::tcp::endpoint& ep, std::string& error) {
  const int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return true;  // nothing learned; opening the listener reports its own error
  // SO_REUSEADDR without SO_REUSEPORT: connections in TIME_WAIT do not count, and any socket
  // bound to the address (a listener) makes bind fail.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = ::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) == 0;
  const int e = errno;
  ::close(fd);
  if (ok || e != EADDRINUSE) return true;
  error = "cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) + ": " +
          std::string(std::strerror(e)) +
          " (another process listens there; sharing the address would split new connections "
          "between the two)";
  return false;
}

}  // namespace sg::net
