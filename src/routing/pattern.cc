#include "routing/pattern.h"

namespace sg::routing {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Iterative glob with single-star backtracking: linear in practice, no recursion.
bool glob(std::string_view p, std::string_view s, bool star_crosses_dots, bool fold_case) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  auto eq = [&](char a, char b) { return fold_case ? lower(a) == lower(b) : a == b; };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
      // A host "*" must consume at least one character of its label.
      if (!star_crosses_dots) {
        if (s[si] == '.') return false;
        mark = ++si;
      }
    } else if (pi < p.size() && (eq(p[pi], s[si]) || (star_crosses_dots && p[pi] == '?'))) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos && (star_crosses_dots || s[mark] != '.')) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') {
    if (!star_crosses_dots) return false;  // host "*" cannot match an empty label
    ++pi;
  }
  return pi == p.size();
}

}  // namespace

std::string_view host_without_port(std::string_view host) {
  // A port is the digits after the last ':' ("[::1]:80" -> "[::1]"; "[::1]" has none).
  size_t i = host.size();
  while (i > 0 && host[i - 1] >= '0' && host[i - 1] <= '9') --i;
  if (i > 0 && host[i - 1] == ':') return host.substr(0, i - 1);
  return host;
}

std::string_view without_fqdn_dot(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

std::string_view bare_host(std::string_view host) {
  return without_fqdn_dot(host_without_port(host));
}

bool match_host(std::string_view pattern, std::string_view host) {
  return HostPattern(pattern).matches(bare_host(host));
}

HostPattern::HostPattern(std::string_view p) {
  if (p.empty() || p == "*") {
    kind_ = Kind::kAny;
  } else if (p.size() > 2 && p[0] == '*' && p[1] == '.' &&
             p.find('*', 1) == std::string_view::npos) {
    kind_ = Kind::kOneLabelThenSuffix;
    text_.reserve(p.size() - 1);
    for (char c : p.substr(1)) text_.push_back(lower(c));
  } else {
    kind_ = Kind::kGlob;
    text_ = std::string(p);
  }
}

bool HostPattern::matches(std::string_view bare) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kOneLabelThenSuffix: {
      // One non-empty label, then exactly the suffix (which starts with its dot).
      if (bare.size() <= text_.size()) return false;
      const size_t at = bare.size() - text_.size();
      for (size_t i = 0; i < at; ++i) {
        if (bare[i] == '.') return false;
      }
      for (size_t i = 0; i < text_.size(); ++i) {
        if (lower(bare[at + i]) != text_[i]) return false;
      }
      return true;
    }
    case Kind::kGlob:
      return glob(text_, bare, false, true);
  }
  return false;
}

bool match_path(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return true;
  return glob(pattern, path, true, false);
}

const char* check_host_pattern(std::string_view p) {
  if (p.empty() || p == "*") return nullptr;
  size_t label_start = 0;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '.') {
      std::string_view label = p.substr(label_start, i - label_start);
      if (label.empty()) return "empty label in host pattern";
      if (label.find('*') != std::string_view::npos && label != "*") {
        return "'*' must stand for a whole label in a host pattern";
      }
      label_start = i + 1;
      continue;
    }
    char c = p[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '*' || c == '_';
    if (!ok) return "host pattern may contain only letters, digits, '-', '_', '.' and '*'";
  }
  return nullptr;
}

const char* check_path_pattern(std::string_view p) {
  if (p.empty()) return nullptr;
  if (p[0] != '/' && p != "*") return "path pattern must start with '/'";
  for (char c : p) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "path pattern contains a space or control character";
    }
  }
  return nullptr;
}

}  // namespace sg::routing
