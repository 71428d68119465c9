// The HTTP/2 frame codec of one client connection: nghttp2 (framing, HPACK, flow control,
// stream states, its HTTP messaging checks) behind the events and limits the router needs.
// No I/O: receive() takes the bytes read from the client, send() gives the bytes to write.
// The owner (proxy::Http2Connection, or the fuzz target) opens a stream object per request and
// answers through respond()/resume(); the session never frees a stream.
//
// Abuse resistance (RFC 9113 section 10.5), each limit configurable:
//   - concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS; more are refused by nghttp2);
//   - the header list (SETTINGS_MAX_HEADER_LIST_SIZE, enforced per request as a 431);
//   - the HPACK table the client may make us keep (SETTINGS_HEADER_TABLE_SIZE);
//   - CONTINUATION frames per header block (nghttp2's cap, CVE-2024-28182);
//   - streams reset by the client (a token bucket: rapid reset, CVE-2023-44487);
//   - frames that carry no request — PING, SETTINGS, PRIORITY, WINDOW_UPDATE, RST_STREAM,
//     empty DATA — (a token bucket); frames we must answer while the client reads nothing
//     (nghttp2's outbound queue cap).
// Past a limit the connection ends with GOAWAY(ENHANCE_YOUR_CALM) and the owner is told why.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/h2_request.h"

struct nghttp2_session;

namespace sg::http {

struct H2Settings {
  uint32_t max_concurrent_streams = 128;
  uint32_t stream_window = 65536;        // request body bytes buffered per stream, at most
  uint32_t connection_window = 1 << 20;  // ... and per connection
  uint32_t header_table_size = 4096;     // HPACK table the client's encoder may use
  H2HeadLimits head;                     // also advertised as SETTINGS_MAX_HEADER_LIST_SIZE
  uint32_t reset_burst = 1000;           // client stream resets, then `reset_rate` per second
  uint32_t reset_rate = 33;
  uint32_t control_burst = 1000;  // frames that carry no request, then per second
  uint32_t control_rate = 200;
  uint32_t max_continuations = 8;  // CONTINUATION frames per header block
  bool connect_protocol = true;    // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)
};

// Why a connection was ended for abuse.
enum class H2Flood : uint8_t { kControl, kReset, kContinuation, kOutbound, kCount };
inline constexpr const char* kH2FloodNames[] = {"control", "reset", "continuation", "outbound"};

// What the codec keeps per request stream; the owner's stream object derives from it.
// Events come from inside receive()/send(); none may free the stream.
class H2Stream {
 public:
  explicit H2Stream(const H2HeadLimits& limits) : head(limits) {}
  virtual ~H2Stream() = default;
  H2Stream(const H2Stream&) = delete;
  H2Stream& operator=(const H2Stream&) = delete;

  int32_t id = 0;
  H2RequestHead head;  // filled field by field before on_head

  // The request's header block is complete; `end_stream`: no body follows.
  virtual void on_head(bool end_stream) = 0;
  virtual void on_data(const uint8_t* p, size_t n) = 0;  // request body bytes (flow controlled)
  virtual void on_end() = 0;                             // END_STREAM after body or trailers
  // The stream is gone (answered and done, reset by either side, or the connection ended).
  virtual void on_close(uint32_t error_code) = 0;
  // Copies up to `n` bytes of the response body into `buf`; `eof` when it is complete.
  // Returning 0 without `eof` defers the stream until resume().
  virtual size_t pull(uint8_t* buf, size_t n, bool& eof) = 0;
};

class H2Owner {
 public:
  virtual ~H2Owner() = default;
  // A new request stream; nullptr refuses it (RST_STREAM REFUSED_STREAM).
  virtual H2Stream* open_stream(int32_t id) = 0;
  virtual void on_flood(H2Flood kind) = 0;
};

struct H2Field {
  std::string_view name;  // any case: lowercased on the way out
  std::string_view value;
};

class H2Session {
 public:
  H2Session(const H2Settings& s, H2Owner& owner);
  ~H2Session();
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  // Bytes read from the client. False: the connection is over (protocol error or abuse); what
  // is left to send (GOAWAY) still comes out of send().
  bool receive(const char* p, size_t n);
  // Appends frames to `out` until nothing is left or it holds at least `max` bytes.
  bool send(std::string& out, size_t max);
  bool want_read() const;
  bool want_write() const;
  bool alive() const { return error_ == nullptr; }
  const char* error() const { return error_; }

  // The response head; with_body false ends the stream with it.
  bool respond(H2Stream& s, int status, std::span<const H2Field> fields, bool with_body);
  // A 1xx response before the final one.
  bool interim(H2Stream& s, int status, std::span<const H2Field> fields);
  void resume(const H2Stream& s);  // response body bytes became available
  // The owner is done with the stream object (freed or reused): no event or pull reaches it
  // any more, even if the codec still has the stream open.
  void detach(int32_t id);
  void reset(int32_t id, uint32_t code);
  // Request body bytes the stream has passed on: the client may send that many more.
  void consume(int32_t id, size_t n);
  void consume_connection(size_t n);  // bytes that were dropped (a finished stream's body)
  // GOAWAY naming the last stream the router took; streams in flight finish.
  void goaway(uint32_t code);
  bool stream_open(int32_t id) const;

  // The frame callbacks (h2_session.cc) reach these.
  H2Owner& owner() { return owner_; }
  bool spend(bool reset_frame);
  void flood(H2Flood kind);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  static bool take(Bucket& b, uint32_t burst, uint32_t rate);

  H2Settings settings_;
  H2Owner& owner_;
  nghttp2_session* session_ = nullptr;
  Bucket control_;
  Bucket resets_;
  std::string nv_names_;  // lowercased names for respond()
  const char* error_ = nullptr;
};

}  // namespace sg::http
