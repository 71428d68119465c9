#include "sg_build_info.h"  // generated (cmake/build_info.cmake)

#include "app/version.h"

namespace sg::app {

const BuildInfo& build_info() {
  static const BuildInfo info{SG_VERSION, SG_GIT_COMMIT, SG_BUILD_TYPE};
  return info;
}

std::string version_line() {
  const BuildInfo& b = build_info();
  return std::string("sessiongate ") + b.version + " (commit " + b.commit + ", " + b.build_type +
         ")";
}

}  // namespace sg::app
