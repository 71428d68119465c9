// Request ids and trace context: every request gets an id (X-Request-Id) that the upstream
// receives, the client gets back and the access log shows; a trusted proxy's id is kept. A
// valid W3C traceparent passes through to the upstream and its trace id is logged; an invalid
// one (and its tracestate) is dropped, as the Trace Context spec asks of an intermediary.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sg::proxy {

// Fixed storage: a record copies it into tunnels without a heap allocation.
template <size_t N>
struct ShortText {
  ShortText() {}  // (user-provided: a record's reset does not zero the text)
  char text[N];
  uint8_t size = 0;
  std::string_view view() const { return {text, size}; }
  void assign(std::string_view s) {
    size = static_cast<uint8_t>(s.size() < N ? s.size() : N);
    std::memcpy(text, s.data(), size);
  }
};
static_assert(sizeof(ShortText<64>) <= 72);

// The id and its header line, built once per request: "X-Request-Id: <id>\r\n" goes into the
// upstream request and the response as is.
struct RequestId {
  static constexpr std::string_view kName = "X-Request-Id: ";
  ShortText<kName.size() + 64 + 2> line;
  std::string_view id() const {
    return line.size == 0
               ? std::string_view()
               : std::string_view(line.text + kName.size(), line.size - kName.size() - 2);
  }
  std::string_view header_line() const { return line.view(); }
  void assign(std::string_view id);  // 1-64 characters
};

// What a trusted proxy may hand over as the id: 1-64 of A-Z a-z 0-9 - _ . : (no spaces, no
// quotes: it goes into log lines and headers as is).
bool valid_request_id(std::string_view id);

// "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>", not all-zero ids, lowercase.
bool valid_traceparent(std::string_view v);

// Ids unique within a process: a random seed per generator, a counter, and a bijective mix
// (no two counters give the same id), as 16 hex digits.
class RequestIds {
 public:
  RequestIds();
  void next(RequestId& out);

 private:
  uint64_t seed_;
  uint64_t count_ = 0;
};

}  // namespace sg::proxy
