// The HTTP/2 downstream codec of one client connection: the frame codec (http/h2_session.h)
// driven from the worker's loop, and one Http2Stream (with its Exchange) per request.
//
// Two coroutines move bytes: the reader feeds what the client sends to the codec and starts
// the exchanges whose heads completed; the writer sends what the codec has queued (answers,
// DATA pulled from the streams' bounded buffers, WINDOW_UPDATEs), a batch per write, and
// sleeps until a stream or the reader wakes it. Each exchange runs on its own coroutine.
// Streams are freed only outside the codec's callbacks, once their exchange is over and the
// codec has closed them. The connection lives while any of these coroutines does.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/buffer.h"
#include "http/h2_session.h"
#include "net/watchdog.h"
#include "proxy/client_conn.h"
#include "proxy/deadline_list.h"
#include "proxy/worker.h"

namespace sg::proxy {

class Http2Stream;

class Http2Connection final : public http::H2Owner,
                              public std::enable_shared_from_this<Http2Connection> {
 public:
  static void start(Worker& w, ClientPtr c);
  Http2Connection(Worker& w, ClientPtr c);
  ~Http2Connection() override;

  Worker& worker() { return w_; }
  ClientConn& client() { return *cc_; }
  const Runtime& runtime() const { return *pin_; }
  http::H2Session& codec() { return codec_; }
  bool alive() const { return !dead_; }
  // Something was queued in the codec: the writer sends it.
  void want_write();
  // A stream's exchange (and tunnel) ended; frees it if the codec is done with it too.
  void stream_done(Http2Stream& s);
  void stream_closed(Http2Stream& s);
  void stream_ready(Http2Stream& s) { ready_.push_back(&s); }

  // http::H2Owner
  http::H2Stream* open_stream(int32_t id) override;
  void on_flood(http::H2Flood kind) override;

 private:
  boost::asio::awaitable<void> read_loop(std::shared_ptr<Http2Connection> self);
  boost::asio::awaitable<void> write_loop(std::shared_ptr<Http2Connection> self);
  bool flush_codec();  // the codec's pending frames into out_; false when it failed
  void start_ready();
  void reap();
  void free_stream(Http2Stream& s);
  void end();    // the connection is over: streams fail, both loops stop
  void drain();  // GOAWAY: the streams in flight finish, no new ones
  void update_idle();

  Worker& w_;
  // The configuration this connection started under (its settings, timeouts and listener stay
  // those for its life; each stream's routing is its exchange's).
  std::shared_ptr<const Runtime> pin_;
  ClientPtr cc_;
  net::Stream& client_;
  http::H2Session codec_;
  std::unordered_map<int32_t, std::unique_ptr<Http2Stream>> streams_;
  std::vector<std::unique_ptr<Http2Stream>> spare_;  // finished streams kept for reuse
  std::vector<Http2Stream*> ready_;  // heads completed during receive(): exchanges to start
  std::vector<int32_t> closed_;      // closed by the codec during a callback: free later
  size_t running_ = 0;               // exchanges in flight
  Buffer in_;
  std::string out_;
  net::Watchdog read_dog_;   // idle connection
  net::Watchdog write_dog_;  // a client that takes no bytes
  boost::asio::steady_timer wake_;
  bool writer_waiting_ = false;
  bool writing_ = false;  // a batch is on its way to a client that takes it slowly
  bool hot_ = false;      // idle, with spare streams not yet given back
  std::chrono::steady_clock::time_point idle_deadline_;
  bool dead_ = false;
  bool draining_ = false;
  bool reader_done_ = false;
  DrainHook drain_hook_;  // in the worker's list of connections told when it drains
};

// The worker's ConnectionHandler: HTTP/2 for connections that negotiated it, else HTTP/1.1.
void serve_client(Worker& worker, ClientPtr client);

}  // namespace sg::proxy
