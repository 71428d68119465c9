// The transport seam: what the data plane does with a connection, whatever carries it. Every
// client and upstream connection, the watchdog, the upstream pool, parked connections and
// tunnels hold a Stream, never a raw socket.
//
// Today a Stream is plain TCP, and every operation is the socket's own, inline: a direct
// `sendmsg` for writes that fit (see send_now.h), Asio's reactor for the rest. A TLS stream is
// a second implementation behind these same operations; the one that has no plain analogue is
// has_buffered_input(): a TLS stream can hold decrypted bytes the kernel no longer shows as
// readable, and whoever waits for readability must ask it first.
#pragma once

#include <sys/socket.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "net/send_now.h"

namespace sg::net {

class Stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;

  explicit Stream(tcp::socket s) : socket_(std::move(s)) {}
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  // Reads what is there, waiting for at least one byte (EOF and errors are values).
  template <typename Token>
  auto async_read_some(boost::asio::mutable_buffer b, Token&& token) {
    return socket_.async_read_some(b, std::forward<Token>(token));
  }
  // Reads what is there without waiting; would_block when nothing is.
  size_t read_now(boost::asio::mutable_buffer b, error_code& ec) {
    return socket_.read_some(b, ec);
  }
  // Writes what the transport takes now, without waiting; see net::send_now.
  template <size_t N>
  bool write_now(std::array<boost::asio::const_buffer, N>& bufs, size_t& sent, error_code& ec) {
    return send_now(socket_, bufs, sent, ec);
  }
  template <typename Buffers, typename Token>
  auto async_write(const Buffers& bufs, Token&& token) {
    return boost::asio::async_write(socket_, bufs, std::forward<Token>(token));
  }
  // Completes when a read would find bytes (or the peer's close). Callers check
  // has_buffered_input() first.
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return socket_.async_wait(tcp::socket::wait_read, std::forward<Token>(token));
  }
  bool has_buffered_input() const { return false; }

  // Connects a stream made from a new socket (upstream connections).
  template <typename Token>
  auto async_connect(const tcp::endpoint& ep, Token&& token) {
    return socket_.async_connect(ep, std::forward<Token>(token));
  }

  // Ends whatever is pending on it (the operation completes with operation_aborted).
  void cancel() {
    error_code ignored;
    socket_.cancel(ignored);
  }
  void shutdown_send() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
  void close() {
    error_code ignored;
    socket_.close(ignored);
  }
  bool is_open() const { return socket_.is_open(); }
  void set_non_blocking() {
    error_code ignored;
    socket_.non_blocking(true, ignored);
  }
  void set_no_delay() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
  }
  // True when a pooled connection is still open with nothing unread (MSG_PEEK).
  bool still_open() {
    char probe;
    const ssize_t n = ::recv(socket_.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  tcp::endpoint remote_endpoint(error_code& ec) const { return socket_.remote_endpoint(ec); }
  boost::asio::any_io_executor get_executor() { return socket_.get_executor(); }

 private:
  tcp::socket socket_;
};

}  // namespace sg::net
