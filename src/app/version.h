#pragma once

namespace sg::app {
inline constexpr const char* kVersion = "0.1.0";
}
