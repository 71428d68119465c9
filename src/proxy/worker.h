// A worker: one event loop on one thread, its own acceptors (SO_REUSEPORT), its own upstream
// pool. Nothing here is shared with other workers except the immutable configuration.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <unordered_map>

#include "access/link_token.h"
#include "net/address_policy.h"
#include "net/upstream_pool.h"
#include "net/watchdog.h"
#include "observe/access_log.h"
#include "observe/metrics.h"
#include "observe/recent_errors.h"
#include "proxy/client_conn.h"
#include "proxy/client_limits.h"
#include "proxy/deadline_list.h"
#include "proxy/deadlines.h"
#include "proxy/holds.h"
#include "proxy/listener.h"
#include "proxy/parking.h"
#include "proxy/request_id.h"
#include "proxy/route_subscribers.h"
#include "proxy/settings.h"
#include "registry/route.h"
#include "routing/rule.h"

namespace sg::registry {
class SessionLookup;
}

namespace sg::proxy {

// What the data plane reads on every request; immutable once published.
struct SessionSettings {
  std::string cookie_name = "sg_session";
  Millis activity_interval{5000};  // a session's activity is reported at most this often
  int starting_retry_after = 2;    // seconds, on the "starting" page (which refreshes itself)
};

struct Runtime {
  Settings settings;
  routing::RuleTable rules;
  std::vector<std::shared_ptr<const Listener>> listeners;
  SessionSettings sessions;
  std::unordered_map<std::string, std::string> pages;  // page name -> HTML template
  observe::AccessLog* access_log = nullptr;            // null: no access log
  uint32_t access_fields = ~0u;                        // bit per observe::AccessField
  net::AddressPolicy upstream_policy;                  // checked again at every connect
  ClientLimits* client_limits = nullptr;               // shared by all workers; may be null
  WakeGate* wake = nullptr;  // wake-on-request (shared by all workers); null: off
  // Unknown sessions looked up in the store on demand (shared); null: answered 404 at once.
  registry::SessionLookup* lookup = nullptr;
  // Preview access control.
  access::LinkSigner links;
  bool default_link = false;
  std::string token_param = "sg_token";
  std::vector<net::Cidr> trusted_proxies;
};

using ActivitySink = std::function<void(std::vector<std::pair<std::string, int64_t>>)>;

// The event loop, with its shutdown step callable early: the worker destroys every pending
// handler (and the connections they own) while its own members are still alive. Only the
// worker's own thread touches it, so Asio's scheduler and reactor run without locks; other
// threads reach the worker through its inbox (Worker::run_in_loop).
class EventLoop : public boost::asio::io_context {
 public:
  EventLoop() : boost::asio::io_context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE) {}
  using boost::asio::io_context::shutdown;
};

class Worker;

// A connection that carries many requests at once (HTTP/2), told when it must wind down.
struct DrainHook : DeadlineHook {
  const ClientConn* conn = nullptr;
};

// A request being forwarded (either codec), in the worker's list for the drain's end: its
// watchdog is then expired, so one whose response has not started is answered with the
// shutting-down page instead of being cut without a word. Scoped to Exchange::forward.
class InFlight {
 public:
  InFlight(Worker& w, net::Watchdog& dog);
  ~InFlight() { DeadlineList::remove(hook_); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  DeadlineHook hook_;
};

// What serves a client connection: the downstream codec, chosen by the application (the worker
// does not know HTTP). `serve` takes a connection whose stream is readable; `refuse` answers
// one over its per-client connection limit.
struct ConnectionHandler {
  void (*serve)(Worker& w, ClientPtr c) = nullptr;
  void (*refuse)(Worker& w, ClientPtr c) = nullptr;
};

// What a connection on a listener with a PROXY header or TLS goes through before its first
// request (handshake.cc); ends in Worker::first_request or a closed connection.
void start_handshake(Worker& w, ClientPtr c, const Listener& l);

class Worker {
 public:
  explicit Worker(std::shared_ptr<const Runtime> rt);
  void set_handler(ConnectionHandler h) { handler_ = h; }  // before start()
  ~Worker();

  // Binds this worker's acceptors. Errors name the address. `given(listener)` may hand over
  // an already listening socket for it (a binary upgrade), or -1 to open a new one.
  bool listen(std::string& error, const std::function<int(const Listener&)>& given = {});
  // Thread-safe: a duplicate of each listening socket, given to `done` on this worker's thread
  // (for a new process to take over; the worker keeps accepting on its own).
  void share_listening(
      std::function<void(std::vector<std::pair<boost::asio::ip::tcp::endpoint, int>>)> done);
  // Thread-safe: the drain's last step, every tunnel told to go away (1001 on WebSockets).
  void tunnels_go_away();
  size_t tunnels() const { return static_cast<size_t>(metrics_.tunnels_active.get()); }
  // Thread-safe: a reload. From the next request on, `rt` is the configuration in force;
  // `fds[i]` is a socket bound for rt->listeners[i], or -1 where that address was already
  // listened on (its acceptor is kept, so no connection in its backlog is lost). Acceptors of
  // addresses no longer listed close; their connections finish their request and close.
  // Tunnels whose session the new rules no longer route are told to go away. `applied` is
  // called on this worker's thread once `rt` is in force.
  void adopt(std::shared_ptr<const Runtime> rt, std::vector<int> fds,
             std::function<void()> applied);
  void start();  // runs the loop on a new thread
  // Thread-safe: stop accepting, close idle connections. `handover` (a binary upgrade): idle
  // keep-alive connections are answered once more instead (see begin_drain).
  void begin_drain(bool handover = false);
  void stop();  // thread-safe: end the loop now
  // Thread-safe: runs `f` on this worker's thread, in call order.
  void run_in_loop(std::function<void()> f);
  void join();
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // Used by connections, from this worker's thread only.
  boost::asio::io_context& io() { return io_; }
  // The configuration in force now. A connection or request that spans a reload keeps the
  // one it started with by holding runtime_ptr() (see docs/decisions/0019-config-reload.md).
  const Runtime& runtime() const { return *runtime_; }
  const std::shared_ptr<const Runtime>& runtime_ptr() const { return runtime_; }
  net::UpstreamPool& pool() { return pool_; }
  bool draining() const { return draining_; }
  // Connections waiting hot for their next request (see parking.h).
  HotIdle& hot_idle() { return hot_idle_; }

  // A new connection whose peer is known (after its PROXY header, if any): decides whether the
  // peer is a trusted proxy and takes its per-client connection slot. False when refused (the
  // connection is then answered or closed, and `c` empty).
  bool admit(ClientPtr& c, const Listener& l);
  // A connection ready for its first request (after its TLS handshake, if any).
  void first_request(ClientPtr c);

  // Holds an idle client connection without a coroutine: a readiness wait and a place in a
  // deadline list. Readable: a connection is started on it; due or draining: it is closed.
  void park(ClientPtr c, Parking kind, std::chrono::steady_clock::time_point deadline);
  // Connections that carry many requests at once (HTTP/2) and must be told when the worker
  // drains (hook.expire is called then); unlinked by their owner when it closes.
  void watch_drain(DrainHook& h) { drainable_.push_back(h, {}); }
  void watch_in_flight(DeadlineHook& h) { in_flight_.push_back(h, {}); }
  // Thread-safe: the drain's time is over; requests not yet answered get the shutting-down
  // page (see InFlight), from then on any failing request does.
  void cut_in_flight();
  bool requests_cut() const { return requests_cut_; }
  // A tunnel's idle deadline, `timeout` from now (moved to the back of its list).
  void push_tunnel_deadline(DeadlineHook& h, Millis timeout);

  // Routes: replaced wholesale before start, then changed one by one on this worker's thread.
  const registry::RouteTable& routes() const { return routes_; }
  void load_routes(const std::vector<registry::RoutePtr>& routes) { routes_.replace_all(routes); }
  void post_route(std::string session_id, registry::RoutePtr route);  // thread-safe

  // Tunnels by session, closed when their session moves or goes away.
  RouteSubscribers& subscribers() { return subscribers_; }
  // Requests waiting for their session's container to wake.
  Holds& holds() { return holds_; }
  // Thread-safe: the platform could not start `session`'s container; its held requests get
  // the wake_failed page (`reason` is the failure's class).
  void wake_failed(std::string session, std::string reason);
  // Requests waiting for an unknown session's lookup (Exchange::wait_for_lookup).
  Holds& lookups() { return lookups_; }
  // Thread-safe: the lookup of `session` ended; found, its waiters look again (its route came
  // before this), else they answer 404.
  void lookup_ended(std::string session, bool found);

  observe::WorkerMetrics& metrics() { return metrics_; }
  RequestIds& request_ids() { return request_ids_; }
  const observe::WorkerMetrics& metrics() const { return metrics_; }
  observe::RecentErrors& recent_errors() { return recent_errors_; }
  const observe::RecentErrors& recent_errors() const { return recent_errors_; }
  // Appends one access-log line to this worker's buffer (flushed in batches).
  void access(const observe::AccessRecord& r);

  // Activity: throttled per session, reported in batches (and for every open tunnel).
  void set_activity_sink(ActivitySink sink) { activity_sink_ = std::move(sink); }
  void note_activity(const registry::Route& route, int64_t now_ms);

 private:
  // One listening socket of this worker and the listener it accepts for (replaced by a
  // reload that keeps the address).
  struct AcceptSlot {
    explicit AcceptSlot(boost::asio::io_context& io) : acceptor(io), pause(io) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer pause;
    std::shared_ptr<const Listener> listener;
  };
  using SlotPtr = std::shared_ptr<AcceptSlot>;
  void accept(SlotPtr slot);
  void accepted(const std::shared_ptr<const Listener>& l, boost::asio::ip::tcp::socket s);
  // After an accept() failure that would repeat at once (no file descriptors, no memory):
  // count it, say so once in a while, and wait before accepting on that listener again.
  void pause_accepting(SlotPtr slot, const boost::system::error_code& ec);
  void apply_runtime(std::shared_ptr<const Runtime> rt, const std::vector<int>& fds);
  // After a reload: connections of removed listeners wind down, unrouted tunnels go away.
  void wind_down_removed();
  void recheck_tunnels();
  void read_inbox();
  void wake(ClientPtr c);
  void apply_route(const std::string& session_id, registry::RoutePtr route);
  void close_tunnels(const std::string& session_id);
  void schedule_activity_flush();
  void schedule_log_flush();
  void schedule_trim();
  void flush_log();

  // Declared before the loop: handlers destroyed with it still find them.
  std::shared_ptr<const Runtime> runtime_;
  observe::WorkerMetrics metrics_;
  observe::RecentErrors recent_errors_;
  RequestIds request_ids_;
  std::atomic<size_t> connections_{0};
  ConnectionHandler handler_;
  // Each socket is touched only by this worker's thread, so per-object I/O locking is skipped;
  // the scheduler stays thread-safe for posts from the control plane.
  EventLoop io_;
  // The inbox: calls from other threads, and an eventfd that wakes the loop for them.
  std::mutex inbox_mu_;
  std::vector<std::function<void()>> inbox_;
  std::vector<std::function<void()>> inbox_batch_;
  boost::asio::posix::stream_descriptor inbox_wake_{io_};
  uint64_t inbox_count_ = 0;
  bool running_ = false;       // the loop thread was started
  Deadlines deadlines_{io_};   // parked connections by kind, then tunnels
  std::string busy_response_;  // rendered once
  net::UpstreamPool pool_;
  std::vector<SlotPtr> slots_;  // one per runtime_->listeners entry, in its order
  std::chrono::milliseconds accept_backoff_{0};
  std::chrono::steady_clock::time_point accept_logged_{};
  HotIdle hot_idle_;
  bool draining_ = false;
  bool handover_ = false;  // draining for a new process: idle connections get one more answer
  DeadlineList drainable_;
  DeadlineList in_flight_;
  bool requests_cut_ = false;
  registry::RouteTable routes_;
  RouteSubscribers subscribers_;
  Holds holds_;
  Holds lookups_;
  ActivitySink activity_sink_;
  std::vector<std::pair<std::string, int64_t>> pending_activity_;
  boost::asio::steady_timer activity_timer_{io_};
  std::string log_buf_;
  boost::asio::steady_timer log_timer_{io_};
  boost::asio::steady_timer trim_timer_{io_};
  boost::asio::steady_timer drain_grace_{io_};  // closes connections still silent 1 s into a drain
  std::thread thread_;
};

}  // namespace sg::proxy
