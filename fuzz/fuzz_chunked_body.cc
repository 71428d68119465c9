// Chunked bodies: the decoder consumes monotonically, never returns data outside its input,
// and decodes the same payload whether the input arrives whole or byte by byte.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/chunked.h"

namespace {

struct Outcome {
  std::string payload;
  bool done = false;
  bool error = false;
};

Outcome decode(std::string_view in, size_t piece) {
  sg::http::ChunkedDecoder dec({64, 256});
  Outcome o;
  size_t pos = 0;
  std::string pending;
  while (pos < in.size() && !o.done && !o.error) {
    pending.append(in.substr(pos, piece));
    pos += std::min(piece, in.size() - pos);
    for (;;) {
      auto st = dec.step(pending);
      if (st.consumed > pending.size()) std::abort();
      if (!st.data.empty() && (st.data.data() < pending.data() ||
                               st.data.data() + st.data.size() > pending.data() + pending.size())) {
        std::abort();
      }
      o.payload.append(st.data);
      pending.erase(0, st.consumed);
      if (st.error.status != 0) {
        o.error = true;
        break;
      }
      if (st.done) {
        o.done = true;
        break;
      }
      if (st.consumed == 0 || pending.empty()) break;
    }
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Outcome whole = decode(in, in.size() + 1);
  Outcome bytes = decode(in, 1);
  if (whole.done != bytes.done || whole.error != bytes.error) std::abort();
  if (whole.payload != bytes.payload) std::abort();
  return 0;
}
