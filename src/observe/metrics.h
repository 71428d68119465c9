// Data-plane metrics, declared in one place. Each worker owns one WorkerMetrics and is its only
// writer, so counters are plain loads and stores (no locked instructions on the hot path); the
// control plane reads all workers' sets and sums them when /metrics is scraped.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sg::observe {

// Every way a request can end, as the `outcome` label of sessiongate_requests_total.
#define SG_OUTCOMES(X) \
  X(routed)            \
  X(unknown_session)   \
  X(starting)          \
  X(unavailable)       \
  X(wake_failed)       \
  X(upstream_refused)  \
  X(upstream_timeout)  \
  X(upstream_invalid)  \
  X(forbidden) X(bad_request) X(no_rule) X(fixed) X(redirect) X(rate_limited) X(client_closed)

enum class Outcome : uint8_t {
#define SG_ENUM(name) k_##name,
  SG_OUTCOMES(SG_ENUM)
#undef SG_ENUM
      kCount
};
std::string_view to_string(Outcome o);

// The protocol a request came in on (access log `protocol`, requests by protocol).
enum class Protocol : uint8_t { kHttp10, kHttp11, kH2, kCount };
inline constexpr const char* kProtocolNames[] = {"http/1.0", "http/1.1", "h2"};

// A single-writer counter: the owning worker increments, anyone may read.
class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A counter several threads increment (the store pool's calls).
class SharedCounter {
 public:
  void add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Latency histogram with fixed buckets (seconds), single writer.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  void observe_us(uint64_t us) {
    const double s = static_cast<double>(us) / 1e6;
    size_t i = 0;
    while (i < kBounds.size() && s > kBounds[i]) ++i;
    buckets_[i].add();
    sum_us_.add(us);
  }
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }
  uint64_t sum_us() const { return sum_us_.get(); }

 private:
  std::array<Counter, kBounds.size() + 1> buckets_;
  Counter sum_us_;
};

struct WorkerMetrics {
  std::array<Counter, static_cast<size_t>(Outcome::kCount)> requests;
  std::array<Counter, 6> status_class;  // index = status / 100 (1xx..5xx)
  Histogram request_duration;
  Histogram upstream_connect;
  Histogram upstream_first_byte;
  Counter connections_active;
  Counter connections_total;
  Counter connections_rejected;  // over a connection limit
  // accept() failures that pause the acceptor: EMFILE, ENFILE, ENOBUFS/ENOMEM, anything else.
  static constexpr const char* kAcceptErrorReasons[] = {"emfile", "enfile", "enomem", "other"};
  std::array<Counter, 4> accept_errors;
  // Connections closed before their first request by what precedes it: the PROXY header
  // (missing, malformed, too slow) or the TLS handshake (failed, too slow, plain HTTP).
  static constexpr const char* kHandshakeFailureReasons[] = {"proxy_header", "tls", "timeout",
                                                             "plain_http"};
  enum HandshakeFailure : size_t { kProxyHeader, kTls, kTimeout, kPlainHttp, kCount };
  std::array<Counter, 4> handshake_failures;
  Counter tls_handshakes;  // completed
  Counter tls_resumed;     // of which resumed from a ticket
  Counter tunnels_active;
  Counter tunnels_total;
  Counter tunnels_closed_by_route_change;
  Counter tunnels_closed_by_reload;  // their session no longer routed by the reloaded rules
  Counter bytes_in;
  Counter bytes_out;
  Counter upstream_pool_idle;
  Counter upstream_retries;
  Counter route_changes_applied;
  Counter access_log_dropped;
  // Path mode's session worker: pages given its tag, and pages left without it because the
  // upstream compressed them anyway.
  Counter worker_tags_inserted;
  Counter worker_tags_skipped_encoded;
  std::array<Counter, static_cast<size_t>(Protocol::kCount)> requests_by_protocol;
  Counter h2_connections_active;
  Counter h2_connections_total;
  Counter h2_streams_total;
  // Connections ended for abuse, by http::H2Flood (control, reset, continuation, outbound).
  std::array<Counter, 4> h2_floods;
  // Requests held while their container wakes (wake-on-request).
  Counter held_requests;  // now
  Counter holds_total;
  Counter hold_timeouts;  // held for wake.hold_timeout and answered without the container
};

// Control-plane metrics, written only by the control-plane thread.
struct ControlMetrics {
  // Written by the store pool's threads.
  SharedCounter store_ops;
  SharedCounter store_errors;
  SharedCounter store_timeouts;  // of store_errors: the store did not answer in time
  SharedCounter store_busy;      // admin calls refused because the store pool's queue was full
  SharedCounter container_registrations;
  SharedCounter heartbeats;
  SharedCounter scoped_calls;      // admin calls made with a scoped (per-container) token
  SharedCounter scoped_forbidden;  // of those: refused, outside the token's container
  SharedCounter tokens_minted;
  Counter sessions_expired_idle;
  Counter sessions_expired_absolute;
  Counter route_changes_published;
  // Shared (Redis) store only: its change feed.
  bool shared_store = false;
  Counter feed_connected;  // 0 or 1
  Counter feed_changes;    // changes received and applied in order
  Counter resyncs;         // whole-registry snapshots applied
  Counter store_resets;    // of those, after the store's history restarted (new epoch, went back)
  Counter resync_changes;  // records a snapshot found different
  Counter last_resync_ms;
  Counter last_resync_at_ms;  // when (Unix ms), for the dashboard
  // TLS listeners' certificate reloads (SIGHUP, changed files).
  Counter tls_reloads_ok;
  Counter tls_reloads_failed;
  // Configuration reloads (SIGHUP, `sessiongate reload`, POST /v1/config/reload).
  Counter config_reloads_ok;
  Counter config_reloads_failed;
  Counter config_generation;       // 1 at start, +1 per applied reload
  Counter config_last_success_ms;  // wall clock of the last applied load (start or reload)
  // Wake-on-request and sleep: calls to the platform, by result.
  static constexpr const char* kWakeResults[] = {"started", "failed", "circuit_open", "elsewhere"};
  enum WakeResult : size_t { kWakeStarted, kWakeFailed, kWakeCircuitOpen, kWakeElsewhere };
  std::array<Counter, 4> wakes;
  Histogram wake_seconds;     // first held request -> the container registered ready
  Counter sleeps;             // containers put to sleep
  Counter sleep_failures;     // stop calls the platform failed
  Counter wake_circuit_open;  // 0 or 1
};

// Wake-on-request and sleep (part of render_prometheus).
void render_wake(const std::vector<const WorkerMetrics*>& workers, const ControlMetrics& c,
                 std::string& out);

// Prometheus text exposition of everything.
void render_prometheus(const std::vector<const WorkerMetrics*>& workers, const ControlMetrics& c,
                       size_t route_table_size, bool store_ok, std::string& out);

}  // namespace sg::observe
