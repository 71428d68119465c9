// A number a component exports on /metrics as sessiongate_<name>{<labels>}: components that
// only some deployments have (a store's client, a feed) list theirs instead of each getting
// a field in the metrics structs. Consecutive entries with one name are one metric.
#pragma once

#include <string>

namespace sg {

struct Stat {
  std::string name;
  std::string help;
  bool counter;  // else a gauge
  double value;
  std::string labels = "";  // `action="Scan"`
};

}  // namespace sg
