// What a platform's answer to a webhook call means: plain functions, apart from the call's
// coroutine so the reply fuzzer can be instrumented.
#include "lifecycle/webhook.h"

namespace sg::lifecycle {

int response_status(std::string_view head) {
  if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') return 0;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return 0;
    status = status * 10 + (head[i] - '0');
  }
  return status >= 100 ? status : 0;
}

HookResult result_of_status(int status) {
  HookResult r;
  if (status >= 200 && status < 300) {
    r.ok = true;
    return r;
  }
  r.detail = "the platform answered " + std::to_string(status);
  if (status == 0) {
    r.failure = "error";
    r.detail = "the platform's answer is not HTTP";
    r.retryable = true;
  } else if (status >= 500 || status == 408 || status == 429) {
    r.failure = "error";
    r.retryable = true;
  } else {
    r.failure = "rejected";
  }
  return r;
}

}  // namespace sg::lifecycle
