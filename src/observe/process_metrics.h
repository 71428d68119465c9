// The process_* metrics Prometheus client libraries export (CPU, memory, descriptors, start
// time), read from /proc when /metrics is scraped, and sessiongate_build_info.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/stat.h"

namespace sg::observe {

void render_process_metrics(std::string& out);
// sessiongate_<name> for each, with HELP and TYPE once per run of one name.
void render_stats(const std::vector<Stat>& stats, std::string& out);

void render_build_info(std::string_view version, std::string_view commit,
                       std::string_view build_type, std::string& out);

}  // namespace sg::observe
