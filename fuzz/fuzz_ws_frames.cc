// WebSocket frame boundaries in bytes relayed from either side: never reads out of bounds,
// and where the stream is cut into reads never changes where the frames end.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/ws_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = (data[0] % 7) + 1;
  const char* p = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  sg::http::WsFrameTracker whole, pieces;
  whole.feed(p, n);
  for (size_t at = 0; at < n; at += step) pieces.feed(p + at, n - at < step ? n - at : step);
  if (whole.at_boundary() != pieces.at_boundary() || whole.lost() != pieces.lost()) std::abort();
  // A close frame put at a boundary is one whole frame.
  if (whole.at_boundary()) {
    const auto f = sg::http::ws_close_frame(1001, std::string_view(p, n % 200), data[0] & 1, 7);
    whole.feed(f.data(), f.size());
    if (!whole.at_boundary()) std::abort();
  }
  return 0;
}
