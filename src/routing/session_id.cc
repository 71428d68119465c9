#include "routing/session_id.h"

#include "registry/records.h"

namespace sg::routing {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && lower(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

}  // namespace

bool ambiguous_path(std::string_view path) {
  if (path.find('\\') != std::string_view::npos) return true;
  if (path.find("//") != std::string_view::npos) return true;
  if (contains_ci(path, "%2e") || contains_ci(path, "%2f") || contains_ci(path, "%5c") ||
      contains_ci(path, "%00")) {
    return true;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "." || seg == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

IdResult id_from_path(std::string_view path, std::string_view prefix, std::string_view& id,
                      std::string_view& rest) {
  if (path.substr(0, prefix.size()) != prefix) return IdResult::kAbsent;
  std::string_view tail = path.substr(prefix.size());
  size_t slash = tail.find('/');
  id = tail.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : tail.substr(slash);
  if (id.empty()) return IdResult::kAbsent;
  return registry::valid_id(id) ? IdResult::kFound : IdResult::kInvalid;
}

IdResult id_from_host(std::string_view host, std::string_view& id) {
  size_t dot = host.find('.');
  if (dot == std::string_view::npos || dot == 0) return IdResult::kAbsent;
  id = host.substr(0, dot);
  return registry::valid_id(id) ? IdResult::kFound : IdResult::kInvalid;
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ';')) ++i;
    size_t end = header.find(';', i);
    std::string_view pair = header.substr(i, end == std::string_view::npos ? end : end - i);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view v = pair.substr(eq + 1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return {};
}

IdResult id_from_referer(std::string_view referer, std::string_view prefix, std::string_view& id) {
  std::string_view path = referer;
  size_t scheme = referer.find("://");
  if (scheme != std::string_view::npos) {
    size_t slash = referer.find('/', scheme + 3);
    if (slash == std::string_view::npos) return IdResult::kAbsent;
    path = referer.substr(slash);
  }
  size_t cut = path.find_first_of("?#");
  if (cut != std::string_view::npos) path = path.substr(0, cut);
  if (ambiguous_path(path)) return IdResult::kAbsent;
  std::string_view rest;
  IdResult r = id_from_path(path, prefix, id, rest);
  return r == IdResult::kFound ? r : IdResult::kAbsent;
}

}  // namespace sg::routing
