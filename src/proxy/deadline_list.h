// Deadlines of objects that are not running a coroutine (parked keep-alive connections, open
// tunnels), kept without a timer each. Every list holds one kind of deadline, `now + the same
// timeout`, so appending keeps it sorted: entering, leaving and moving to the back are O(1)
// and only the front can be due. The worker runs one timer for all its lists.
#pragma once

#include <chrono>

namespace sg::proxy {

struct DeadlineHook {
  using Clock = std::chrono::steady_clock;
  DeadlineHook* prev = nullptr;
  DeadlineHook* next = nullptr;
  Clock::time_point deadline{};
  // Called by the worker when the deadline passes, after the hook left its list.
  void (*expire)(DeadlineHook*) = nullptr;
  void* owner = nullptr;  // the object `expire` acts on
  bool linked() const { return prev != nullptr; }
};

class DeadlineList {
 public:
  using Clock = DeadlineHook::Clock;
  DeadlineList() = default;
  DeadlineList(const DeadlineList&) = delete;
  DeadlineList& operator=(const DeadlineList&) = delete;
  // Entries still linked when the list goes away are detached, so their own destruction later
  // does not touch it.
  ~DeadlineList() {
    while (!empty()) remove(*head_.next);
  }

  void push_back(DeadlineHook& h, Clock::time_point deadline) {
    if (h.linked()) remove(h);
    h.deadline = deadline;
    h.prev = head_.prev;
    h.next = &head_;
    head_.prev->next = &h;
    head_.prev = &h;
  }
  static void remove(DeadlineHook& h) {
    if (!h.linked()) return;
    h.prev->next = h.next;
    h.next->prev = h.prev;
    h.prev = h.next = nullptr;
  }
  bool empty() const { return head_.next == &head_; }
  // `f` may remove the entry it is given.
  template <typename F>
  void for_each(F f) {
    for (DeadlineHook* h = head_.next; h != &head_;) {
      DeadlineHook* next = h->next;
      f(*h);
      h = next;
    }
  }
  DeadlineHook& front() { return *head_.next; }

 private:
  DeadlineHook head_{&head_, &head_, {}, nullptr, nullptr};
};

}  // namespace sg::proxy
