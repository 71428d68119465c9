#include "proxy/tunnel.h"

#include "common/buffer.h"
#include "http/ws_frames.h"

namespace sg::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void Tunnel::start(ClientPtr client, net::Stream upstream, registry::RoutePtr route,
                   RequestRecord rec, HeadSnapshot head, TunnelInfo info) {
  auto* t = new Tunnel(std::move(client), std::move(upstream), std::move(route), rec,
                       std::move(head), std::move(info));
  // From here the two waits own it.
  t->wait(0);
  t->wait(1);
}

Tunnel::Tunnel(ClientPtr client, net::Stream upstream, registry::RoutePtr route, RequestRecord rec,
               HeadSnapshot head, TunnelInfo info)
    : w_(client->worker),
      client_(std::move(client)),
      upstream_(std::move(upstream)),
      route_(std::move(route)),
      rec_(rec),
      head_(std::move(head)),
      info_(std::move(info)) {
  // Reads are tried directly (writes too, with write_now); only "would block" waits.
  client_->stream.set_non_blocking();
  upstream_.set_non_blocking();
  sides_[0] = {&client_->stream, &upstream_, &rec_.bytes_in, nullptr, false, nullptr};
  sides_[1] = {&upstream_, &client_->stream, &rec_.bytes_out, nullptr, false, nullptr};
  if (info_.websocket) {
    sides_[0].frames = &info_.to_upstream;
    sides_[1].frames = &info_.to_client;
  }
  // Counted by the worker, which decides the close (a route change); counting here too made
  // every such close count twice.
  handle_.close = [this] { close(); };
  handle_.go_away = [this] { go_away(); };
  handle_.key = info_.key;
  // A deleted or re-pointed session takes its tunnels down with it.
  // A session's tunnel goes when its route does; every tunnel is told when the worker drains
  // (one without a session is listed under "").
  w_.subscribers().add(route_ ? route_->session_id : std::string(), &handle_);
  idle_.expire = &Tunnel::on_idle;
  idle_.owner = this;
  touch();
  registry::count_tunnel(route_.get(), 1);
  w_.metrics().tunnels_active.add();
  w_.metrics().tunnels_total.add();
}

Tunnel::~Tunnel() {
  for (Side& s : sides_) {
    if (s.held) BlockCache::give(s.held);
  }
  DeadlineList::remove(idle_);
  w_.metrics().tunnels_active.sub();
  registry::count_tunnel(route_.get(), -1);
  w_.subscribers().remove(route_ ? route_->session_id : std::string(), &handle_);
  record_request(w_, rec_, head_.client, head_, route_.get());
}

void Tunnel::wait(int side) {
  if (sides_[side].from->has_buffered_input()) {
    readable(side);
    return;
  }
  sides_[side].from->async_wait_readable(
      [self = Ref(this), side](const boost::system::error_code& ec) {
        if (ec || self->closing_) {
          self->close();
          return;
        }
        self->readable(side);
      });
}

void Tunnel::readable(int side) {
  Side& s = sides_[side];
  boost::system::error_code ec;
  char* block = BlockCache::take();
  const size_t got = s.from->read_now(asio::buffer(block, BlockCache::kBlock), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    BlockCache::give(block);
    wait(side);
    return;
  }
  if (ec) {
    BlockCache::give(block);
    if (ec != asio::error::eof) {
      close();  // an error on one side ends both directions
      return;
    }
    // Pass the half-close on; the other direction may still have a lot to say.
    s.to->shutdown_send();
    s.eof = true;
    if (sides_[1 - side].eof) close();
    return;
  }
  *s.bytes += got;
  if (s.frames) s.frames->feed(block, got);
  touch();
  std::array<asio::const_buffer, 1> rest{asio::buffer(block, got)};
  size_t put = 0;
  if (s.to->write_now(rest, put, ec)) {
    BlockCache::give(block);
    wait(side);
    return;
  }
  if (ec) {
    BlockCache::give(block);
    close();
    return;
  }
  // The reader on the other side is slower than this writer: keep the rest until it drains
  // (and stop reading this side meanwhile, which is the back-pressure).
  s.held = block;
  s.to->async_write(rest, [self = Ref(this), side](const boost::system::error_code& wec, size_t) {
    self->written(side, wec);
  });
}

void Tunnel::written(int side, const boost::system::error_code& ec) {
  Side& s = sides_[side];
  BlockCache::give(s.held);
  s.held = nullptr;
  if (ec || closing_) {
    close();
    return;
  }
  touch();
  wait(side);
}

void Tunnel::touch() {
  if (linger_) return;  // going away: the linger timer decides
  w_.push_tunnel_deadline(idle_, w_.runtime().settings.timeouts.tunnel_idle);
}

void Tunnel::go_away() {
  if (closing_ || linger_) return;
  if (!info_.websocket) {
    close();
    return;
  }
  // Each direction gets the frame only between two frames and with nothing of its own still
  // queued; otherwise that side just sees the close.
  static const std::string to_client = http::ws_close_frame(1001, "going away", false);
  static const std::string to_upstream = http::ws_close_frame(1001, "going away", true, 0x5347a7e5);
  const std::string* frame[2] = {&to_upstream, &to_client};
  for (int side = 0; side < 2; ++side) {
    Side& s = sides_[side];
    if (s.held || !s.frames->at_boundary() || s.eof) continue;
    std::array<asio::const_buffer, 1> b{asio::buffer(*frame[side])};
    size_t put = 0;
    boost::system::error_code ec;
    if (s.to->write_now(b, put, ec)) s.to->shutdown_send();
  }
  // The peers answer with their own close and hang up; whoever does not is cut after 2 s.
  DeadlineList::remove(idle_);
  linger_ = std::make_unique<asio::steady_timer>(w_.io());
  linger_->expires_after(std::chrono::seconds(2));
  linger_->async_wait([self = Ref(this)](const boost::system::error_code& ec) {
    if (!ec) self->close();
  });
}

void Tunnel::on_idle(DeadlineHook* h) {
  static_cast<Tunnel*>(h->owner)->close();
}

// Ends the tunnel: closing the streams completes every pending operation with an error, and
// the last Ref deletes the object.
void Tunnel::close() {
  if (closing_) return;
  closing_ = true;
  DeadlineList::remove(idle_);
  if (linger_) linger_->cancel();
  client_->stream.close();
  upstream_.close();
}

}  // namespace sg::proxy
