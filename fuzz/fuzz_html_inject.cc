// The HTML injector: whatever the document and however it is split into reads, the output is
// the input with the snippet inserted exactly once, at the same place for every split, and
// nothing is held beyond the limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/html_inject.h"

namespace {

constexpr std::string_view kSnippet = "<script src=\"/s/t/__sessiongate/register.js\"></script>";

std::string run(std::string_view in, size_t piece) {
  sg::http::HtmlInjector inj{std::string(kSnippet)};
  std::string out;
  for (size_t pos = 0; pos < in.size(); pos += piece) {
    inj.feed(in.substr(pos, piece), out);
    // Everything not yet released is held, and never more than the limit plus one read.
    if (!inj.settled() && pos + piece - out.size() > sg::http::HtmlInjector::kMaxHeld + piece) {
      std::abort();
    }
  }
  inj.finish(out);
  if (!inj.inserted()) std::abort();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 16;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string whole = run(in, in.size() + 1);
  if (run(in, piece) != whole || run(in, 1) != whole) std::abort();
  if (whole.size() != in.size() + kSnippet.size()) std::abort();
  // Removing the snippet where it was put gives back the input.
  bool found = false;
  for (size_t at = whole.find(kSnippet); at != std::string::npos;
       at = whole.find(kSnippet, at + 1)) {
    std::string back = whole;
    back.erase(at, kSnippet.size());
    if (back == in) {
      found = true;
      break;
    }
  }
  if (!found) std::abort();
  return 0;
}
