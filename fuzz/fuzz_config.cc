// Configuration files: any text yields either a configuration or errors, never a crash, and
// every error has a message.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  sg::app::Config cfg;
  std::vector<sg::app::ConfigError> errors;
  bool ok = sg::app::parse_config(text, "fuzz.yaml", cfg, errors);
  if (ok != errors.empty()) std::abort();
  for (const auto& e : errors) {
    if (e.message.empty()) std::abort();
  }
  return 0;
}
