// How a worker holds client connections between requests. An answered connection first waits
// "hot" for up to a second: it keeps its read buffer and a pending read (no epoll re-arm, so
// one syscall less per request), in an intrusive list so a drain can cancel it, within a
// per-worker budget so a burst of idle clients cannot pin a buffer each. After that — or
// when the budget is spent — it is parked: no request state, only a readiness wait and an
// entry in one of the deadline lists below (Worker::park).
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/stream.h"

namespace sg::proxy {

// Which deadline a parked connection waits under (each list holds one kind, so stays sorted).
enum class Parking : uint8_t {
  kFirstRequest,  // accepted, nothing sent yet: request_head from the accept
  kKeepAlive,     // answered, idle: keepalive_idle from the end of the response
  kAfterHotIdle,  // answered, idle, parked after its hot-read second: same deadline, later entry
};

// A connection waiting hot for its next request. Intrusive (a node inside the connection), so
// entering and leaving the list on every request costs no allocation.
struct IdleEntry {
  net::Stream* stream = nullptr;
  IdleEntry* prev = nullptr;
  IdleEntry* next = nullptr;
};

class HotIdle {
 public:
  static constexpr size_t kMax = 64;  // hot connections per worker

  HotIdle() = default;
  HotIdle(const HotIdle&) = delete;
  HotIdle& operator=(const HotIdle&) = delete;

  // A slot in the budget, or false when it is spent (then park at once).
  bool take() {
    if (used_ >= kMax) return false;
    ++used_;
    return true;
  }
  void give() { --used_; }
  void add(IdleEntry& e) {
    e.prev = &head_;
    e.next = head_.next;
    head_.next->prev = &e;
    head_.next = &e;
  }
  static void remove(IdleEntry& e) {
    e.prev->next = e.next;
    e.next->prev = e.prev;
    e.prev = e.next = nullptr;
  }
  // Ends every hot wait (drain): each connection then sees the worker draining and closes.
  void cancel_all() {
    for (IdleEntry* e = head_.next; e != &head_; e = e->next) e->stream->cancel();
  }

 private:
  IdleEntry head_{nullptr, &head_, &head_};  // sentinel of a circular list
  size_t used_ = 0;
};

}  // namespace sg::proxy
