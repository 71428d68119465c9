#include "proxy/request_record.h"

#include "observe/access_log.h"
#include "proxy/worker.h"
#include "registry/records.h"

namespace sg::proxy {

void HeadSnapshot::take(const http::RequestHead& req) {
  method = req.method;
  host = req.host;
  path = req.path;
  user_agent = req.header(http::Field::kUserAgent);
  std::string_view ref = req.header(http::Field::kReferer);
  if (const size_t scheme = ref.find("://"); scheme != std::string_view::npos) {
    const size_t slash = ref.find('/', scheme + 3);
    ref = slash == std::string_view::npos ? std::string_view("/") : ref.substr(slash);
  }
  referer = ref.substr(0, ref.find_first_of("?#"));
  const std::string_view tp = req.header(http::Field::kTraceparent);
  trace_id = valid_traceparent(tp) ? tp.substr(3, 32) : std::string_view();
  valid = true;
}

void record_request(Worker& w, const RequestRecord& r, std::string_view client,
                    const HeadSnapshot& head, const registry::Route* route) {
  auto& m = w.metrics();
  const int64_t total = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - r.start)
                            .count();
  m.requests[static_cast<size_t>(r.outcome)].add();
  if (r.status >= 100 && r.status < 600) m.status_class[static_cast<size_t>(r.status / 100)].add();
  if (!r.tunnel) m.request_duration.observe_us(static_cast<uint64_t>(total));
  m.requests_by_protocol[static_cast<size_t>(r.protocol)].add();
  m.bytes_in.add(r.bytes_in);
  m.bytes_out.add(r.bytes_out);
  if (route && route->traffic) {
    registry::RouteTraffic& t = *route->traffic;
    t.requests.fetch_add(1, std::memory_order_relaxed);
    t.bytes.fetch_add(r.bytes_out, std::memory_order_relaxed);
    if (r.status >= 500) t.errors.fetch_add(1, std::memory_order_relaxed);
  }
  if (r.status >= 400) {
    w.recent_errors().add(registry::now_ms(), r.status, observe::to_string(r.outcome),
                          observe::kProtocolNames[static_cast<size_t>(r.protocol)], head.method,
                          head.path, route ? std::string_view(route->session_id) : "",
                          route ? std::string_view(route->container_id) : "", r.request_id.id(),
                          client);
  }
  if (!w.runtime().access_log) return;
  observe::AccessRecord a;
  a.time_ms = registry::now_ms();
  a.client = client;
  if (head.valid) {
    a.method = head.method;
    a.host = head.host;
    a.path = head.path;
    a.user_agent = head.user_agent;
  }
  a.protocol = observe::kProtocolNames[static_cast<size_t>(r.protocol)];
  a.status = r.status;
  a.outcome = observe::to_string(r.outcome);
  a.rule = r.rule ? std::string_view(r.rule->name) : std::string_view();
  if (route) {
    a.session = route->session_id;
    a.container = route->container_id;
    a.generation = route->generation;
  }
  a.bytes_in = r.bytes_in;
  a.bytes_out = r.bytes_out;
  a.duration_us = total;
  a.connect_us = r.connect_us;
  a.first_byte_us = r.first_byte_us;
  a.tunnel = r.tunnel;
  a.request_id = r.request_id.id();
  a.upstream = r.upstream.view();
  if (head.valid) {
    a.referer = head.referer;
    a.trace_id = head.trace_id;
  }
  w.access(a);
}

}  // namespace sg::proxy
