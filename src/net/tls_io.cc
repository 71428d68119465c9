#include "net/tls_io.h"

#include <openssl/err.h>

#include <boost/asio/error.hpp>
#include <cerrno>
#include <cstring>

namespace sg::net::tls {

namespace {

constexpr size_t kRecord = 16384;

Io classify(SSL* ssl, int r) {
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kEof;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      return errno == 0 ? Io::kEof : Io::kError;
    default:
      ERR_clear_error();
      return Io::kError;
  }
}

}  // namespace

Io read(SSL* ssl, void* data, size_t size, size_t& n) {
  n = 0;
  errno = 0;
  const int r = SSL_read_ex(ssl, data, size, &n);
  return r == 1 ? Io::kDone : classify(ssl, r);
}

Io handshake(SSL* ssl) {
  errno = 0;
  const int r = SSL_do_handshake(ssl);
  return r == 1 ? Io::kDone : classify(ssl, r);
}

Io write(SSL* ssl, const boost::asio::const_buffer* bufs, size_t count, size_t offset, size_t& n) {
  n = 0;
  size_t i = 0;
  while (i < count && offset >= bufs[i].size()) offset -= bufs[i++].size();
  if (i == count) return Io::kDone;
  const char* p = static_cast<const char*>(bufs[i].data()) + offset;
  size_t len = bufs[i].size() - offset;
  if (len < kRecord && i + 1 < count) {
    // Several small pieces (a head and a chunk, say) become one record, not one each.
    thread_local char scratch[kRecord];
    std::memcpy(scratch, p, len);
    for (size_t j = i + 1; j < count && len < kRecord; ++j) {
      const size_t take = std::min(bufs[j].size(), kRecord - len);
      if (take) std::memcpy(scratch + len, bufs[j].data(), take);
      len += take;
    }
    p = scratch;
  }
  errno = 0;
  const int r = SSL_write_ex(ssl, p, len, &n);
  return r == 1 ? Io::kDone : classify(ssl, r);
}

void shutdown(SSL* ssl) {
  if (SSL_is_init_finished(ssl)) {
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
}

boost::system::error_code to_error(Io io) {
  switch (io) {
    case Io::kDone:
      return {};
    case Io::kEof:
      return boost::asio::error::eof;
    case Io::kWantRead:
    case Io::kWantWrite:
      return boost::asio::error::would_block;
    default:
      return boost::system::errc::make_error_code(boost::system::errc::protocol_error);
  }
}

bool attach(SSL* ssl, int fd) {
  SSL_set_accept_state(ssl);
  return SSL_set_fd(ssl, fd) == 1;
}

const char* version(SSL* ssl) {
  return SSL_is_init_finished(ssl) ? SSL_get_version(ssl) : "";
}

}  // namespace sg::net::tls
