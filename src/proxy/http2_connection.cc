#include "proxy/http2_connection.h"

#include <nghttp2/nghttp2.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstring>

#include "common/await.h"
#include "proxy/http1_connection.h"
#include "proxy/http2_stream.h"
#include "proxy/listener.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr size_t kReadBytes = 16384;
constexpr size_t kWriteBatch = 65536;  // frames gathered into one write, at most
constexpr size_t kSpareStreams = 16;   // finished streams a connection keeps for reuse
constexpr auto kHotIdle = std::chrono::seconds(1);

awaitable<void> run_stream(std::shared_ptr<Http2Connection> c, Http2Stream* s) {
  co_await s->run();
  c->stream_done(*s);
}

}  // namespace

void Http2Connection::start(Worker& w, ClientPtr c) {
  auto conn = std::make_shared<Http2Connection>(w, std::move(c));
  asio::co_spawn(w.io(), conn->read_loop(conn), asio::detached);
  asio::co_spawn(w.io(), conn->write_loop(conn), asio::detached);
}

Http2Connection::Http2Connection(Worker& w, ClientPtr c)
    : w_(w),
      pin_(w.runtime_ptr()),
      cc_(std::move(c)),
      client_(cc_->stream),
      codec_(pin_->settings.http2, *this),
      read_dog_(client_.get_executor()),
      write_dog_(client_.get_executor()),
      wake_(w.io()) {
  read_dog_.watch(&client_);
  write_dog_.watch(&client_);
  // Reads are tried directly and must return at once when nothing is there (read_loop).
  client_.set_non_blocking();
  drain_hook_.owner = this;
  drain_hook_.conn = cc_.get();
  drain_hook_.expire = [](DeadlineHook* h) { static_cast<Http2Connection*>(h->owner)->drain(); };
  w_.watch_drain(drain_hook_);
  w_.metrics().h2_connections_active.add();
  w_.metrics().h2_connections_total.add();
}

Http2Connection::~Http2Connection() {
  DeadlineList::remove(drain_hook_);
  streams_.clear();  // before the codec they belong to
  spare_.clear();
  w_.metrics().h2_connections_active.sub();
}

http::H2Stream* Http2Connection::open_stream(int32_t id) {
  // The codec counts only streams it still has open; a reset stream's exchange may run on a
  // while (its upstream is cancelled). Bound those too, or resets would pile up exchanges.
  const size_t cap = size_t{runtime().settings.http2.max_concurrent_streams} * 2;
  if (dead_ || draining_ || streams_.size() >= cap) return nullptr;
  std::unique_ptr<Http2Stream> s;
  if (!spare_.empty()) {
    s = std::move(spare_.back());
    spare_.pop_back();
  } else {
    s = std::make_unique<Http2Stream>(*this);
  }
  Http2Stream* p = s.get();
  streams_.emplace(id, std::move(s));  // ids only grow: never an old entry's
  w_.metrics().h2_streams_total.add();
  return p;
}

void Http2Connection::on_flood(http::H2Flood kind) {
  w_.metrics().h2_floods[static_cast<size_t>(kind)].add();
  for (auto& [key, s] : streams_) s->abort();
}

void Http2Connection::want_write() {
  if (writer_waiting_) wake_.cancel();
}

void Http2Connection::start_ready() {
  for (Http2Stream* s : ready_) {
    if (dead_ || s->closed()) continue;
    s->mark_started();
    ++running_;
    asio::co_spawn(w_.io(), run_stream(shared_from_this(), s), asio::detached);
  }
  ready_.clear();
}

void Http2Connection::stream_closed(Http2Stream& s) {
  closed_.push_back(s.id);
}

void Http2Connection::stream_done(Http2Stream& s) {
  --running_;
  s.mark_done();
  if (s.closed()) free_stream(s);
  want_write();
  update_idle();
}

void Http2Connection::free_stream(Http2Stream& s) {
  auto it = streams_.find(s.id);
  if (it == streams_.end()) return;
  std::unique_ptr<Http2Stream> done = std::move(it->second);
  streams_.erase(it);
  codec_.detach(done->id);  // an aborted stream may still be open in the codec
  if (spare_.size() < kSpareStreams && !dead_) {
    done->recycle();
    spare_.push_back(std::move(done));
  }
}

// Streams the codec closed during receive() or send(), freed now that it has returned.
void Http2Connection::reap() {
  for (int32_t id : closed_) {
    auto it = streams_.find(id);
    if (it != streams_.end() && (!it->second->started() || it->second->finished())) {
      free_stream(*it->second);
    }
  }
  closed_.clear();
}

void Http2Connection::update_idle() {
  if (dead_) return;
  // Idle means no stream and nothing being written: the last response may still be on its
  // way to a slow client after the codec is done with its stream.
  if (running_ == 0 && streams_.empty() && !writing_) {
    const auto& to = runtime().settings.timeouts;
    idle_deadline_ = net::coarse_now() + to.keepalive_idle;
    // A connection at rest soon gives back what its last requests left behind (spare
    // streams, the write batch), as an idle HTTP/1.1 connection is parked without buffers.
    hot_ = !spare_.empty() || out_.capacity() > 0;
    read_dog_.arm_at(hot_ ? std::min(idle_deadline_, net::coarse_now() + kHotIdle)
                          : idle_deadline_);
  } else {
    hot_ = false;
    read_dog_.disarm();
  }
}

void Http2Connection::drain() {
  if (draining_ || dead_) return;
  draining_ = true;
  codec_.goaway(NGHTTP2_NO_ERROR);
  want_write();
}

void Http2Connection::end() {
  if (dead_) return;
  dead_ = true;
  read_dog_.disarm();
  write_dog_.disarm();
  client_.cancel();
  for (auto& [key, s] : streams_) s->abort();
  want_write();
}

// Waits for the client without a buffer (an idle connection holds none), then reads what is
// there into one from the per-thread cache and gives it back once the codec has it.
awaitable<void> Http2Connection::read_loop(std::shared_ptr<Http2Connection> self) {
  (void)self;  // held: the connection lives while this loop does
  update_idle();
  if (cc_->closing()) drain();
  while (!dead_) {
    auto [p, n] = in_.prepare(kReadBytes, kReadBytes);
    boost::system::error_code ec;
    const size_t got = client_.read_now(asio::buffer(p, n), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      in_.release_if_empty();
      auto [wec] = co_await client_.async_wait_readable(kUse);
      if (!wec || dead_) continue;
      if (read_dog_.expired() && hot_) {
        hot_ = false;
        spare_.clear();
        std::string().swap(out_);
        read_dog_.arm_at(idle_deadline_);
        continue;
      }
      if (read_dog_.expired()) {
        // Idle: say goodbye properly; the writer sends it and closes.
        codec_.goaway(NGHTTP2_NO_ERROR);
        reader_done_ = true;
        want_write();
        co_return;
      }
      end();  // cancelled by the connection's end, or the wait failed
      co_return;
    }
    if (ec || got == 0) {
      end();  // the client closed or reset, or the connection failed
      co_return;
    }
    in_.commit(got);
    const bool ok = codec_.receive(in_.data().data(), got);
    in_.consume(got);
    start_ready();
    reap();
    want_write();
    if (!ok) {
      // A protocol error or abuse: GOAWAY is queued; nothing more is read.
      for (auto& [key, s] : streams_) s->abort();
      reader_done_ = true;
      co_return;
    }
    update_idle();
  }
}

awaitable<void> Http2Connection::write_loop(std::shared_ptr<Http2Connection> self) {
  (void)self;
  const auto& to = runtime().settings.timeouts;
  while (!dead_) {
    out_.clear();
    const bool ok = codec_.send(out_, kWriteBatch);
    reap();
    if (!out_.empty()) {
      std::array<asio::const_buffer, 1> bufs{asio::buffer(out_)};
      size_t n = 0;
      boost::system::error_code ec;
      if (!client_.write_now(bufs, n, ec) && !ec) {
        writing_ = true;
        update_idle();
        write_dog_.arm(to.body_idle);
        std::tie(ec, n) = co_await client_.async_write(bufs, kUse);
        write_dog_.disarm();
        writing_ = false;
        update_idle();
      }
      if (ec) break;
      continue;
    }
    if (!ok) break;
    // Nothing to send. Done when the codec wants nothing more (GOAWAY exchanged, no stream
    // left) or the reader stopped and no exchange can still answer.
    const bool finished = !codec_.want_read() && !codec_.want_write();
    if (finished || (reader_done_ && running_ == 0)) {
      client_.shutdown_send();
      break;
    }
    wake_.expires_at(asio::steady_timer::time_point::max());
    writer_waiting_ = true;
    co_await wake_.async_wait(kUse);
    writer_waiting_ = false;
  }
  end();
  client_.close();
}

void serve_client(Worker& w, ClientPtr c) {
  if (!c->h2 && !c->protocol_known) {
    c->protocol_known = true;
    const Listener* l = c->peer.listener;
    if (l != nullptr && l->h2c && !c->stream.secure()) {
      // Prior knowledge: the connection opens with the HTTP/2 preface. "PRI" starts no
      // HTTP/1.1 request a client would send, so three bytes of it decide.
      // (The codec checks the rest of the preface and ends a connection that garbles it.)
      char buf[3];
      if (c->stream.peek(buf, sizeof buf) == 3 && std::memcmp(buf, "PRI", 3) == 0) c->h2 = true;
    }
  }
  if (c->h2) {
    Http2Connection::start(w, std::move(c));
  } else {
    serve_http1(w, std::move(c));
  }
}

}  // namespace sg::proxy
