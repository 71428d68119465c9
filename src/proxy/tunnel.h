// An upgraded connection (WebSocket, or any 101) after the handshake: bytes copied both ways
// until both sides have closed, an error, the idle timeout, or its session going away.
//
// Not a coroutine: an idle tunnel is this object, its two streams and one readiness wait per
// direction. A direction takes a buffer from the per-thread cache when its stream is readable
// and gives it back once the bytes are written; only a slow reader makes it keep one.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "proxy/client_conn.h"
#include "proxy/deadline_list.h"
#include "proxy/request_record.h"
#include "proxy/worker.h"
#include "registry/route.h"

namespace sg::proxy {

class Tunnel {
 public:
  // Takes both streams once the 101 and any early bytes have been passed on. `rec` is the
  // upgrade request, logged when the tunnel ends.
  static void start(ClientPtr client, net::Stream upstream, registry::RoutePtr route,
                    RequestRecord rec, HeadSnapshot head, TunnelInfo info);

 private:
  struct Side {
    net::Stream* from = nullptr;
    net::Stream* to = nullptr;
    uint64_t* bytes = nullptr;
    char* held = nullptr;  // a block kept while the reader of `to` is slow
    bool eof = false;
    http::WsFrameTracker* frames = nullptr;  // WebSocket: where frames end in what it passed
  };

  Tunnel(ClientPtr client, net::Stream upstream, registry::RoutePtr route, RequestRecord rec,
         HeadSnapshot head, TunnelInfo info);
  ~Tunnel();

  // Held by every pending handler: the tunnel lives while one exists (run or destroyed
  // unrun at shutdown), so it is deleted exactly when nothing can reach it any more.
  class Ref {
   public:
    explicit Ref(Tunnel* t) : t_(t) { ++t_->pending_; }
    Ref(Ref&& o) noexcept : t_(o.t_) { o.t_ = nullptr; }
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    Ref& operator=(Ref&&) = delete;
    ~Ref() {
      if (t_ && --t_->pending_ == 0) delete t_;
    }
    Tunnel* operator->() const { return t_; }

   private:
    Tunnel* t_;
  };

  void wait(int side);
  void readable(int side);
  void written(int side, const boost::system::error_code& ec);
  void touch();
  void close();
  // A reload's rules no longer route it: a 1001 close frame each way where the stream is
  // between frames, both sends shut, and a short wait for the peers to close.
  void go_away();
  static void on_idle(DeadlineHook* h);

  Worker& w_;
  ClientPtr client_;
  net::Stream upstream_;
  registry::RoutePtr route_;
  RequestRecord rec_;
  HeadSnapshot head_;
  Side sides_[2];
  TunnelInfo info_;
  TunnelHandle handle_;
  std::unique_ptr<boost::asio::steady_timer> linger_;  // set once going away
  DeadlineHook idle_;  // in the worker's tunnel list; moved to the back on every transfer
  int pending_ = 0;    // live Refs
  bool closing_ = false;
};

}  // namespace sg::proxy
