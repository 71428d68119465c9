// The TLS half of net::Stream: OpenSSL driving the socket's descriptor directly (its own
// read()/write() in non-blocking mode), and Asio's reactor only told when to wait. Each call
// does what it can now and says what it waits for; the stream's asynchronous operations loop on
// that (stream.h). OpenSSL never blocks the loop.
//
// Writes: OpenSSL must be given the same bytes again after it asked to wait for writability
// (it has already encrypted them). gather() is deterministic in (buffers, offset), so a retry
// from the same offset offers the same bytes; SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets them sit
// at a different address (the per-thread scratch). Small pieces are gathered into one record.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>

namespace sg::net::tls {

enum class Io : uint8_t { kDone, kWantRead, kWantWrite, kEof, kError };

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

Io read(SSL* ssl, void* data, size_t size, size_t& n);
Io handshake(SSL* ssl);
// One SSL_write of the bytes at `offset` in `bufs` (at most one record's worth when gathered).
Io write(SSL* ssl, const boost::asio::const_buffer* bufs, size_t count, size_t offset, size_t& n);
// Sends close_notify if it can without waiting (best effort, as for a plain shutdown).
void shutdown(SSL* ssl);

// The error an Io outcome becomes (kEof: asio's eof; kError: a protocol error).
boost::system::error_code to_error(Io io);

// A server-side connection on `fd`: the SSL owns nothing but its state; the socket stays the
// stream's.
bool attach(SSL* ssl, int fd);

// The negotiated protocol and cipher (for logs and tests), "" before the handshake.
const char* version(SSL* ssl);

}  // namespace sg::net::tls
