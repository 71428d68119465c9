// What this binary is: for --version and the sessiongate_build_info metric.
#pragma once

#include <string>

namespace sg::app {

struct BuildInfo {
  const char* version;
  const char* commit;      // short git commit, "-dirty" when built from changed files
  const char* build_type;  // CMake build type
};

const BuildInfo& build_info();

// "sessiongate 0.1.0 (commit 1234abcd5678, Release)"
std::string version_line();

}  // namespace sg::app
