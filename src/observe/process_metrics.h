// The process_* metrics Prometheus client libraries export (CPU, memory, descriptors, start
// time), read from /proc when /metrics is scraped, and sessiongate_build_info.
#pragma once

#include <string>
#include <string_view>

namespace sg::observe {

void render_process_metrics(std::string& out);
// One unlabelled metric, sessiongate_<name>: a counter, or else a gauge.
void render_metric(std::string_view name, bool counter, std::string_view help, double v,
                   std::string& out);

void render_build_info(std::string_view version, std::string_view commit,
                       std::string_view build_type, std::string& out);

}  // namespace sg::observe
