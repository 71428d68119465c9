// The transport seam: what the data plane does with a connection, whatever carries it. Every
// client and upstream connection, the watchdog, the upstream pool, parked connections and
// tunnels hold a Stream, never a raw socket.
//
// A plain stream's operations are the socket's own, inline: a direct `sendmsg` for writes that
// fit (see send_now.h), Asio's reactor for the rest. A TLS stream (start_tls) runs the same
// operations through OpenSSL (tls_io.h), one predictable branch away. The one that has no plain
// analogue is has_buffered_input(): a TLS stream can hold decrypted bytes the kernel no longer
// shows as readable, and whoever waits for readability must ask it first.
#pragma once

#include <sys/socket.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "net/send_now.h"
#include "net/tls_io.h"

namespace sg::net {

// How many pieces a buffer sequence handed to Stream::async_write has (a TLS write gathers at
// most 8).
template <typename B>
inline constexpr size_t kPieces = 1;
template <size_t N>
inline constexpr size_t kPieces<std::array<boost::asio::const_buffer, N>> = N;

class Stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;

  explicit Stream(tcp::socket s) : socket_(std::move(s)) {}
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  // Makes this a server-side TLS stream (the handshake is async_handshake). False when the
  // SSL cannot take the descriptor.
  bool start_tls(SSL* ssl) {
    tls_.reset(ssl);
    // OpenSSL reads and writes the descriptor itself: it must never block the loop (Asio keeps
    // a socket blocking at the OS level until its own first asynchronous operation).
    set_non_blocking();
    return tls::attach(ssl, socket_.native_handle());
  }
  bool secure() const { return tls_ != nullptr; }
  SSL* ssl() const { return tls_.get(); }

  template <typename Token>
  auto async_handshake(Token&& token) {
    return boost::asio::async_compose<Token, void(error_code)>(HandshakeOp{this, true}, token,
                                                               socket_);
  }

  // Reads what is there, waiting for at least one byte (EOF and errors are values).
  template <typename Token>
  auto async_read_some(boost::asio::mutable_buffer b, Token&& token) {
    if (!tls_) return socket_.async_read_some(b, std::forward<Token>(token));
    return boost::asio::async_compose<Token, void(error_code, size_t)>(ReadOp{this, b, true}, token,
                                                                       socket_);
  }
  // Reads what is there without waiting; would_block when nothing is.
  size_t read_now(boost::asio::mutable_buffer b, error_code& ec) {
    if (!tls_) return socket_.read_some(b, ec);
    size_t n = 0;
    ec = tls::to_error(tls::read(tls_.get(), b.data(), b.size(), n));
    return n;
  }
  // Writes what the transport takes now, without waiting; see net::send_now.
  template <size_t N>
  bool write_now(std::array<boost::asio::const_buffer, N>& bufs, size_t& sent, error_code& ec) {
    if (!tls_) return send_now(socket_, bufs, sent, ec);
    return tls_write_now(bufs.data(), N, sent, ec);
  }
  template <typename Buffers, typename Token>
  auto async_write(const Buffers& bufs, Token&& token) {
    if (!tls_) return boost::asio::async_write(socket_, bufs, std::forward<Token>(token));
    return boost::asio::async_compose<Token, void(error_code, size_t)>(
        WriteOp<Buffers>{this, bufs, 0, true}, token, socket_);
  }
  // Completes when a read would find bytes (or the peer's close). Callers check
  // has_buffered_input() first.
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return socket_.async_wait(tcp::socket::wait_read, std::forward<Token>(token));
  }
  bool has_buffered_input() const { return tls_ && SSL_has_pending(tls_.get()) == 1; }

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
    if (tls_) tls::shutdown(tls_.get());
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
  // Looks at the bytes that have arrived without taking them (before any TLS): the PROXY
  // header is then taken exactly, and a ClientHello left whole for OpenSSL. -1 with errno.
  ssize_t peek(char* buf, size_t n) {
    ssize_t got;
    do {
      got = ::recv(socket_.native_handle(), buf, n, MSG_PEEK | MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    return got;
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
  // The TLS operations: each step does what OpenSSL can now, then waits for what it asked for.
  // A first step that completes posts its result, as Asio's own operations do.
  template <typename Self, typename... Args>
  static void finish(Self& self, bool first, Args... args) {
    if (first) {
      auto ex = self.get_io_executor();
      boost::asio::post(ex,
                        [self = std::move(self), args...]() mutable { self.complete(args...); });
      return;
    }
    self.complete(args...);
  }
  template <typename Self>
  void wait_for(tls::Io io, Self& self) {
    socket_.async_wait(io == tls::Io::kWantRead ? tcp::socket::wait_read : tcp::socket::wait_write,
                       std::move(self));
  }

  struct HandshakeOp {
    Stream* s;
    bool first;
    template <typename Self>
    void operator()(Self& self, error_code ec = {}) {
      const bool was_first = std::exchange(first, false);
      if (ec) return finish(self, was_first, ec);
      const tls::Io io = tls::handshake(s->tls_.get());
      if (io == tls::Io::kWantRead || io == tls::Io::kWantWrite) return s->wait_for(io, self);
      finish(self, was_first, tls::to_error(io));
    }
  };
  struct ReadOp {
    Stream* s;
    boost::asio::mutable_buffer b;
    bool first;
    template <typename Self>
    void operator()(Self& self, error_code ec = {}) {
      const bool was_first = std::exchange(first, false);
      if (ec) return finish(self, was_first, ec, size_t{0});
      size_t n = 0;
      const tls::Io io = tls::read(s->tls_.get(), b.data(), b.size(), n);
      if (io == tls::Io::kWantRead || io == tls::Io::kWantWrite) return s->wait_for(io, self);
      finish(self, was_first, tls::to_error(io), n);
    }
  };
  template <typename Buffers>
  struct WriteOp {
    static_assert(kPieces<Buffers> <= 8, "a TLS write takes at most 8 buffers");
    Stream* s;
    Buffers bufs;
    size_t done;
    bool first;
    template <typename Self>
    void operator()(Self& self, error_code ec = {}) {
      const bool was_first = std::exchange(first, false);
      if (ec) return finish(self, was_first, ec, done);
      std::array<boost::asio::const_buffer, 8> pieces;
      size_t count = 0;
      size_t total = 0;
      for (auto it = boost::asio::buffer_sequence_begin(bufs);
           it != boost::asio::buffer_sequence_end(bufs); ++it) {
        pieces[count++] = boost::asio::const_buffer(*it);
        total += pieces[count - 1].size();
      }
      while (done < total) {
        size_t n = 0;
        const tls::Io io = tls::write(s->tls_.get(), pieces.data(), count, done, n);
        if (io == tls::Io::kWantRead || io == tls::Io::kWantWrite) return s->wait_for(io, self);
        if (io != tls::Io::kDone) return finish(self, was_first, tls::to_error(io), done);
        done += n;
      }
      finish(self, was_first, error_code(), done);
    }
  };

  bool tls_write_now(boost::asio::const_buffer* bufs, size_t count, size_t& sent, error_code& ec) {
    sent = 0;
    ec.clear();
    size_t total = 0;
    for (size_t i = 0; i < count; ++i) total += bufs[i].size();
    while (sent < total) {
      size_t n = 0;
      const tls::Io io = tls::write(tls_.get(), bufs, count, sent, n);
      if (io == tls::Io::kWantRead || io == tls::Io::kWantWrite) break;
      if (io != tls::Io::kDone) {
        ec = tls::to_error(io);
        break;
      }
      sent += n;
    }
    size_t skip = sent;  // advance past what went, as send_now does
    for (size_t i = 0; i < count; ++i) {
      const size_t take = std::min(skip, bufs[i].size());
      bufs[i] += take;
      skip -= take;
    }
    return sent == total;
  }

  tcp::socket socket_;
  tls::SslPtr tls_;
};

}  // namespace sg::net
