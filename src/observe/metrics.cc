#include "observe/metrics.h"

#include "http/h2_session.h"

#include <cstdio>

namespace sg::observe {

std::string_view to_string(Outcome o) {
  switch (o) {
#define SG_NAME(name)     \
  case Outcome::k_##name: \
    return #name;
    SG_OUTCOMES(SG_NAME)
#undef SG_NAME
    case Outcome::kCount:
      break;
  }
  return "unknown";
}

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(buf).append("\n");
}

// A metric with one unlabelled sample.
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double v) {
  header(out, name, type, help);
  sample(out, name, "", v);
}

template <typename F>
uint64_t sum(const std::vector<const WorkerMetrics*>& ws, F f) {
  uint64_t total = 0;
  for (const auto* w : ws) total += f(*w);
  return total;
}

// `bucket(i)` and `sum_us()` of one histogram or of the sum of several.
template <typename Bucket, typename SumUs>
void histogram_of(std::string& out, std::string_view name, std::string_view help, Bucket bucket,
                  SumUs sum_us) {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  std::string bucket_name = std::string(name) + "_bucket";
  for (size_t i = 0; i <= Histogram::kBounds.size(); ++i) {
    cumulative += bucket(i);
    char le[32];
    if (i < Histogram::kBounds.size()) {
      std::snprintf(le, sizeof le, "le=\"%g\"", Histogram::kBounds[i]);
    } else {
      std::snprintf(le, sizeof le, "le=\"+Inf\"");
    }
    sample(out, bucket_name, le, static_cast<double>(cumulative));
  }
  sample(out, std::string(name) + "_sum", "", static_cast<double>(sum_us()) / 1e6);
  sample(out, std::string(name) + "_count", "", static_cast<double>(cumulative));
}

void histogram(std::string& out, std::string_view name, std::string_view help,
               const std::vector<const WorkerMetrics*>& ws,
               const Histogram& (*pick)(const WorkerMetrics&)) {
  histogram_of(
      out, name, help,
      [&](size_t i) { return sum(ws, [&](const WorkerMetrics& w) { return pick(w).bucket(i); }); },
      [&] { return sum(ws, [&](const WorkerMetrics& w) { return pick(w).sum_us(); }); });
}

}  // namespace

// A counter family with one `label` value per array slot.
template <size_t N>
void by_reason(std::string& out, const std::vector<const WorkerMetrics*>& ws, const char* name,
               const char* help, const char* const (&reasons)[N],
               std::array<Counter, N> WorkerMetrics::*field, const char* label = "reason") {
  header(out, name, "counter", help);
  for (size_t i = 0; i < N; ++i) {
    const std::string labels = std::string(label) + "=\"" + std::string(reasons[i]) + "\"";
    sample(
        out, name, labels,
        static_cast<double>(sum(ws, [&](const WorkerMetrics& w) { return (w.*field)[i].get(); })));
  }
}

namespace {

// A counter with one sample per outcome: {result="<name>"}.
struct Result {
  const char* name;
  uint64_t value;
};
void by_result(std::string& out, const char* name, const char* help, Result a, Result b) {
  header(out, name, "counter", help);
  for (const Result& r : {a, b}) {
    sample(out, name, std::string("result=\"") + r.name + "\"", static_cast<double>(r.value));
  }
}

}  // namespace

void render_prometheus(const std::vector<const WorkerMetrics*>& ws, const ControlMetrics& c,
                       size_t route_table_size, bool store_ok, std::string& out) {
  header(out, "sessiongate_requests_total", "counter", "Requests by how they ended.");
  for (size_t i = 0; i < static_cast<size_t>(Outcome::kCount); ++i) {
    std::string labels = "outcome=\"" + std::string(to_string(static_cast<Outcome>(i))) + "\"";
    sample(
        out, "sessiongate_requests_total", labels,
        static_cast<double>(sum(ws, [&](const WorkerMetrics& w) { return w.requests[i].get(); })));
  }
  by_reason(out, ws, "sessiongate_accept_errors_total",
            "accept() failures by reason; each pauses that acceptor briefly instead of retrying "
            "at once.",
            WorkerMetrics::kAcceptErrorReasons, &WorkerMetrics::accept_errors);
  by_reason(out, ws, "sessiongate_handshake_failures_total",
            "Connections closed before their first request: a bad or slow PROXY header, a failed "
            "or slow TLS handshake, plain HTTP on a TLS listener.",
            WorkerMetrics::kHandshakeFailureReasons, &WorkerMetrics::handshake_failures);
  by_reason(out, ws, "sessiongate_requests_by_protocol_total",
            "Requests by the protocol the client spoke.", kProtocolNames,
            &WorkerMetrics::requests_by_protocol, "protocol");
  by_reason(out, ws, "sessiongate_http2_floods_total",
            "HTTP/2 connections ended with GOAWAY(ENHANCE_YOUR_CALM) for abuse: control frames, "
            "stream resets, CONTINUATION frames, or answers the client never read.",
            http::kH2FloodNames, &WorkerMetrics::h2_floods, "kind");
  header(out, "sessiongate_responses_total", "counter", "Responses by status class.");
  for (size_t i = 1; i <= 5; ++i) {
    std::string labels = "class=\"" + std::to_string(i) + "xx\"";
    sample(out, "sessiongate_responses_total", labels,
           static_cast<double>(
               sum(ws, [&](const WorkerMetrics& w) { return w.status_class[i].get(); })));
  }
  histogram(out, "sessiongate_request_duration_seconds",
            "Time from a complete request head to the end of the response.", ws,
            [](const WorkerMetrics& w) -> const Histogram& { return w.request_duration; });
  histogram(out, "sessiongate_upstream_connect_seconds", "Time to connect to an upstream.", ws,
            [](const WorkerMetrics& w) -> const Histogram& { return w.upstream_connect; });
  histogram(out, "sessiongate_upstream_first_byte_seconds",
            "Time from the request sent upstream to its response head.", ws,
            [](const WorkerMetrics& w) -> const Histogram& { return w.upstream_first_byte; });

  struct Simple {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*get)(const WorkerMetrics&);
  };
  static const Simple kSimple[] = {
      {"sessiongate_connections_active", "gauge", "Open downstream connections.",
       [](const WorkerMetrics& w) { return w.connections_active.get(); }},
      {"sessiongate_connections_total", "counter", "Accepted downstream connections.",
       [](const WorkerMetrics& w) { return w.connections_total.get(); }},
      {"sessiongate_connections_rejected_total", "counter",
       "Connections refused by a connection limit.",
       [](const WorkerMetrics& w) { return w.connections_rejected.get(); }},
      {"sessiongate_tls_handshakes_total", "counter", "TLS handshakes completed.",
       [](const WorkerMetrics& w) { return w.tls_handshakes.get(); }},
      {"sessiongate_tls_resumed_total", "counter",
       "TLS handshakes that resumed a session from a ticket (of the completed ones).",
       [](const WorkerMetrics& w) { return w.tls_resumed.get(); }},
      {"sessiongate_http2_connections_active", "gauge", "Open HTTP/2 client connections.",
       [](const WorkerMetrics& w) { return w.h2_connections_active.get(); }},
      {"sessiongate_http2_connections_total", "counter", "HTTP/2 client connections opened.",
       [](const WorkerMetrics& w) { return w.h2_connections_total.get(); }},
      {"sessiongate_http2_streams_total", "counter", "HTTP/2 request streams opened.",
       [](const WorkerMetrics& w) { return w.h2_streams_total.get(); }},
      {"sessiongate_tunnels_active", "gauge", "Open upgraded (WebSocket) tunnels.",
       [](const WorkerMetrics& w) { return w.tunnels_active.get(); }},
      {"sessiongate_tunnels_total", "counter", "Tunnels opened.",
       [](const WorkerMetrics& w) { return w.tunnels_total.get(); }},
      {"sessiongate_tunnels_closed_by_route_change_total", "counter",
       "Tunnels closed because their session was deleted or re-pointed.",
       [](const WorkerMetrics& w) { return w.tunnels_closed_by_route_change.get(); }},
      {"sessiongate_tunnels_closed_by_reload_total", "counter",
       "Tunnels closed (1001 going away) because a reload's rules no longer route their session.",
       [](const WorkerMetrics& w) { return w.tunnels_closed_by_reload.get(); }},
      {"sessiongate_received_bytes_total", "counter", "Bytes received from clients.",
       [](const WorkerMetrics& w) { return w.bytes_in.get(); }},
      {"sessiongate_sent_bytes_total", "counter", "Bytes sent to clients.",
       [](const WorkerMetrics& w) { return w.bytes_out.get(); }},
      {"sessiongate_upstream_pool_idle", "gauge", "Idle pooled upstream connections.",
       [](const WorkerMetrics& w) { return w.upstream_pool_idle.get(); }},
      {"sessiongate_upstream_retries_total", "counter",
       "Idempotent requests retried after a pooled connection failed before any byte.",
       [](const WorkerMetrics& w) { return w.upstream_retries.get(); }},
      {"sessiongate_route_changes_applied_total", "counter",
       "Route changes applied by workers (each worker counts its own).",
       [](const WorkerMetrics& w) { return w.route_changes_applied.get(); }},
      {"sessiongate_access_log_dropped_total", "counter",
       "Access-log lines dropped because the writer fell behind.",
       [](const WorkerMetrics& w) { return w.access_log_dropped.get(); }},
      {"sessiongate_session_worker_tags_total", "counter",
       "Path-mode pages given the session worker's script tag.",
       [](const WorkerMetrics& w) { return w.worker_tags_inserted.get(); }},
      {"sessiongate_session_worker_tags_skipped_total", "counter",
       "Path-mode pages left without the session worker's tag because the upstream compressed "
       "them.",
       [](const WorkerMetrics& w) { return w.worker_tags_skipped_encoded.get(); }},
  };
  for (const auto& m : kSimple) {
    header(out, m.name, m.type, m.help);
    sample(out, m.name, "", static_cast<double>(sum(ws, m.get)));
  }
  header(out, "sessiongate_route_table_sessions", "gauge", "Sessions in the route table.");
  sample(out, "sessiongate_route_table_sessions", "", static_cast<double>(route_table_size));
  header(out, "sessiongate_store_up", "gauge", "1 when the registry store answers.");
  sample(out, "sessiongate_store_up", "", store_ok ? 1 : 0);
  single(out, "sessiongate_store_operations_total", "counter", "Registry store writes.",
         static_cast<double>(c.store_ops.get()));
  single(out, "sessiongate_store_errors_total", "counter", "Registry store writes that failed.",
         static_cast<double>(c.store_errors.get()));
  single(out, "sessiongate_store_timeouts_total", "counter",
         "Admin store calls the store did not answer in time (503 store_timeout).",
         static_cast<double>(c.store_timeouts.get()));
  single(out, "sessiongate_store_busy_total", "counter",
         "Admin calls refused at once because the store pool's queue was full (503 store_busy).",
         static_cast<double>(c.store_busy.get()));
  by_result(out, "sessiongate_tls_reloads_total",
            "Certificate reloads of TLS listeners: ok (new files in use) or failed (the previous "
            "certificates still serve; the log says why).",
            {"ok", c.tls_reloads_ok.get()}, {"failed", c.tls_reloads_failed.get()});
  by_result(out, "sessiongate_config_reloads_total",
            "Configuration reloads: success (applied) or failure (invalid or needs a restart; "
            "nothing changed).",
            {"success", c.config_reloads_ok.get()}, {"failure", c.config_reloads_failed.get()});
  header(out, "sessiongate_config_generation", "gauge",
         "Configuration in force: 1 at start, one more per applied reload.");
  sample(out, "sessiongate_config_generation", "", static_cast<double>(c.config_generation.get()));
  header(out, "sessiongate_config_last_reload_success_timestamp_seconds", "gauge",
         "When the configuration in force was loaded (start or last applied reload).");
  sample(out, "sessiongate_config_last_reload_success_timestamp_seconds", "",
         static_cast<double>(c.config_last_success_ms.get()) / 1000.0);
  if (c.shared_store) {
    header(out, "sessiongate_store_feed_connected", "gauge",
           "1 while the change feed is subscribed; 0 means routes may be stale.");
    sample(out, "sessiongate_store_feed_connected", "",
           static_cast<double>(c.feed_connected.get()));
    header(out, "sessiongate_store_feed_changes_total", "counter",
           "Changes received from the shared store, in version order.");
    sample(out, "sessiongate_store_feed_changes_total", "",
           static_cast<double>(c.feed_changes.get()));
    header(out, "sessiongate_store_resyncs_total", "counter",
           "Whole-registry resynchronisations (connect, reconnect, gap, store reset).");
    sample(out, "sessiongate_store_resyncs_total", "", static_cast<double>(c.resyncs.get()));
    header(out, "sessiongate_store_resets_total", "counter",
           "Store resets detected (emptied, flushed or restored to an older state): the "
           "snapshot replaced every route.");
    sample(out, "sessiongate_store_resets_total", "", static_cast<double>(c.store_resets.get()));
    header(out, "sessiongate_store_resync_changes_total", "counter",
           "Records a resynchronisation found out of date.");
    sample(out, "sessiongate_store_resync_changes_total", "",
           static_cast<double>(c.resync_changes.get()));
    header(out, "sessiongate_store_last_resync_seconds", "gauge",
           "Time the last resynchronisation took to read the store.");
    sample(out, "sessiongate_store_last_resync_seconds", "",
           static_cast<double>(c.last_resync_ms.get()) / 1000.0);
  }
  header(out, "sessiongate_container_registrations_total", "counter", "Container registrations.");
  sample(out, "sessiongate_container_registrations_total", "",
         static_cast<double>(c.container_registrations.get()));
  header(out, "sessiongate_heartbeats_total", "counter", "Container heartbeats accepted.");
  sample(out, "sessiongate_heartbeats_total", "", static_cast<double>(c.heartbeats.get()));
  header(out, "sessiongate_admin_scoped_calls_total", "counter",
         "Admin API calls made with a scoped container token, by result.");
  sample(out, "sessiongate_admin_scoped_calls_total", "result=\"allowed\"",
         static_cast<double>(c.scoped_calls.get() - c.scoped_forbidden.get()));
  sample(out, "sessiongate_admin_scoped_calls_total", "result=\"forbidden\"",
         static_cast<double>(c.scoped_forbidden.get()));
  header(out, "sessiongate_admin_tokens_minted_total", "counter",
         "Scoped container tokens minted.");
  sample(out, "sessiongate_admin_tokens_minted_total", "",
         static_cast<double>(c.tokens_minted.get()));
  header(out, "sessiongate_sessions_expired_total", "counter", "Sessions removed by the sweeper.");
  sample(out, "sessiongate_sessions_expired_total", "reason=\"idle\"",
         static_cast<double>(c.sessions_expired_idle.get()));
  sample(out, "sessiongate_sessions_expired_total", "reason=\"expires_at\"",
         static_cast<double>(c.sessions_expired_absolute.get()));
  header(out, "sessiongate_route_changes_published_total", "counter",
         "Route changes published to the workers.");
  sample(out, "sessiongate_route_changes_published_total", "",
         static_cast<double>(c.route_changes_published.get()));
  render_wake(ws, c, out);
}

void render_wake(const std::vector<const WorkerMetrics*>& ws, const ControlMetrics& c,
                 std::string& out) {
  header(out, "sessiongate_wakes_total", "counter",
         "Wakes of sleeping containers by result: started (the platform accepted the start "
         "call), failed (after retries), circuit_open (not called: the platform kept failing), "
         "elsewhere (another router holds the wake lease).");
  for (size_t i = 0; i < std::size(ControlMetrics::kWakeResults); ++i) {
    sample(out, "sessiongate_wakes_total",
           std::string("result=\"") + ControlMetrics::kWakeResults[i] + "\"",
           static_cast<double>(c.wakes[i].get()));
  }
  histogram_of(
      out, "sessiongate_wake_seconds",
      "Time from the first held request of a wake to its container registering ready.",
      [&](size_t i) { return c.wake_seconds.bucket(i); }, [&] { return c.wake_seconds.sum_us(); });
  single(
      out, "sessiongate_held_requests", "gauge", "Requests waiting for their container to wake.",
      static_cast<double>(sum(ws, [](const WorkerMetrics& w) { return w.held_requests.get(); })));
  single(out, "sessiongate_holds_total", "counter", "Requests that were held for a wake.",
         static_cast<double>(sum(ws, [](const WorkerMetrics& w) { return w.holds_total.get(); })));
  single(
      out, "sessiongate_hold_timeouts_total", "counter",
      "Held requests answered without their container after wake.hold_timeout.",
      static_cast<double>(sum(ws, [](const WorkerMetrics& w) { return w.hold_timeouts.get(); })));
  single(out, "sessiongate_sleeps_total", "counter",
         "Containers put to sleep after sessions.sleep_after without activity.",
         static_cast<double>(c.sleeps.get()));
  single(out, "sessiongate_sleep_failures_total", "counter",
         "Stop calls the platform failed (tried again 30 s later).",
         static_cast<double>(c.sleep_failures.get()));
  single(out, "sessiongate_wake_circuit_open", "gauge",
         "1 while the platform hook's circuit breaker is open (no calls are made).",
         static_cast<double>(c.wake_circuit_open.get()));
}

}  // namespace sg::observe
