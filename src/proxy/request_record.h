// The end of one request: its metrics and its access-log line. Shared by connections and by
// tunnels, which outlive the connection coroutine that opened them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"
#include "observe/metrics.h"
#include "proxy/request_id.h"
#include "registry/route.h"
#include "routing/rule.h"

namespace sg::proxy {

class Worker;

// Head fields copied for the access log (bodies and tunnels reuse the buffer the parsed head
// points into). Empty when the access log is off.
struct HeadSnapshot {
  bool valid = false;
  std::string method, host, path, user_agent;
  std::string referer;   // its path only: no scheme, host or query (which may carry tokens)
  std::string trace_id;  // of a valid traceparent
  std::string client;    // set when the request becomes a tunnel (it outlives the exchange)
  void take(const http::RequestHead& req);
};

struct RequestRecord {
  std::chrono::steady_clock::time_point start;
  observe::Outcome outcome = observe::Outcome::k_client_closed;
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t connect_us = -1;
  int64_t first_byte_us = -1;
  const routing::Rule* rule = nullptr;
  bool tunnel = false;
  observe::Protocol protocol = observe::Protocol::kHttp11;
  RequestId request_id;
  ShortText<48> upstream;  // the address the request was sent to ("[v6]:port" fits)
};

void record_request(Worker& w, const RequestRecord& r, std::string_view client,
                    const HeadSnapshot& head, const registry::Route* route);

}  // namespace sg::proxy
