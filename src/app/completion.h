// Shell completion scripts generated from the command-line definition itself, so they never
// drift from it: `sessiongate completion bash|zsh`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace sg::app {

// The script for `shell` ("bash" or "zsh"), or empty for another shell.
std::string completion_script(CLI::App& app, std::string_view shell);

}  // namespace sg::app
