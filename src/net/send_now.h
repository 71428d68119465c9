// A write tried at once, before any asynchronous operation: a response head and a small body
// nearly always fit the socket's send buffer, and then the write costs one sendmsg and no trip
// through the event loop (an awaited async_write completes through the scheduler even when its
// first attempt wrote everything).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cerrno>

namespace sg::net {

// Sends what the socket takes now without blocking and advances `bufs` past it. Returns true
// when everything was sent; false with `ec` clear means the rest must wait for the socket.
template <size_t N>
bool send_now(boost::asio::ip::tcp::socket& s, std::array<boost::asio::const_buffer, N>& bufs,
              size_t& sent, boost::system::error_code& ec) {
  iovec iov[N];
  size_t count = 0;
  size_t total = 0;
  for (const auto& b : bufs) {
    if (b.size() == 0) continue;
    iov[count].iov_base = const_cast<void*>(b.data());
    iov[count].iov_len = b.size();
    total += b.size();
    ++count;
  }
  sent = 0;
  ec.clear();
  if (total == 0) return true;
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t n;
  do {
    n = ::sendmsg(s.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec.assign(errno, boost::asio::error::get_system_category());
    }
    return false;
  }
  sent = static_cast<size_t>(n);
  size_t skip = sent;
  for (auto& b : bufs) {
    const size_t take = std::min(skip, b.size());
    b += take;
    skip -= take;
  }
  return sent == total;
}

}  // namespace sg::net
