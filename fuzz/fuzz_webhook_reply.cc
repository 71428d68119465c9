// What the wake hook reads from the network: the platform's answer to a webhook call (its
// status line, then what that status means). Any input yields a status or 0, and a result
// that is a success exactly for 2xx and otherwise names its failure class.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lifecycle/webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const int status = sg::lifecycle::response_status(text);
  if (status != 0 && (status < 100 || status > 999)) std::abort();
  const sg::lifecycle::HookResult r = sg::lifecycle::result_of_status(status);
  if (r.ok != (status >= 200 && status < 300)) std::abort();
  if (!r.ok && (r.failure.empty() || r.detail.empty())) std::abort();
  if (r.ok && !r.failure.empty()) std::abort();
  return 0;
}
