#include "registry/records.h"

#include <boost/json.hpp>

#include <chrono>

namespace sg::registry {

std::string labels_to_json(const std::map<std::string, std::string>& labels) {
  boost::json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return boost::json::serialize(o);
}

bool labels_from_json(std::string_view json, std::map<std::string, std::string>& out) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(json, ec);
  if (ec || !parsed.is_object()) return false;
  out.clear();
  for (const auto& kv : parsed.as_object()) {
    if (!kv.value().is_string()) return false;
    out[std::string(kv.key())] = std::string(kv.value().as_string());
  }
  return true;
}

std::string_view to_string(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kStarting:
      return "starting";
    case ContainerStatus::kReady:
      return "ready";
    case ContainerStatus::kDraining:
      return "draining";
    case ContainerStatus::kStopped:
      return "stopped";
    case ContainerStatus::kSleeping:
      return "sleeping";
    case ContainerStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::optional<ContainerStatus> parse_status(std::string_view s) {
  if (s == "starting") return ContainerStatus::kStarting;
  if (s == "ready") return ContainerStatus::kReady;
  if (s == "draining") return ContainerStatus::kDraining;
  if (s == "sleeping") return ContainerStatus::kSleeping;
  if (s == "stopped") return ContainerStatus::kStopped;
  if (s == "failed") return ContainerStatus::kFailed;
  return std::nullopt;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Millis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sg::registry
