#include "admin/dashboard/logins.h"

#include <sys/random.h>

#include <algorithm>
#include <array>

namespace sg::admin {

std::string Logins::create(Millis now) {
  std::array<unsigned char, 32> raw{};
  size_t got = 0;
  while (got < raw.size()) {
    const ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : raw) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  std::erase_if(order_, [&](const std::string& old) {
    auto it = expiry_.find(old);
    if (it == expiry_.end() || it->second > now) return false;
    expiry_.erase(it);
    return true;
  });
  while (!order_.empty() && expiry_.size() >= max_) {
    expiry_.erase(order_.front());
    order_.pop_front();
  }
  expiry_[id] = now + ttl_;
  order_.push_back(id);
  return id;
}

bool Logins::valid(std::string_view id, Millis now) const {
  if (id.empty()) return false;
  auto it = expiry_.find(std::string(id));
  return it != expiry_.end() && now < it->second;
}

void Logins::end(std::string_view id) {
  if (expiry_.erase(std::string(id)) == 0) return;
  std::erase(order_, id);
}

void Logins::failed(Millis now) {
  failures_.push_back(now);
  while (failures_.size() > kMaxFailures) failures_.pop_front();
}

bool Logins::throttled(Millis now) {
  while (!failures_.empty() && failures_.front() <= now - 60000) failures_.pop_front();
  return failures_.size() >= kMaxFailures;
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return part.substr(name.size() + 1);
    }
  }
  return {};
}

}  // namespace sg::admin
