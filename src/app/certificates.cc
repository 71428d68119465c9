#include "app/certificates.h"

#include <algorithm>
#include <ctime>

namespace sg::app {

bool check_certificates(const std::vector<ListenerConfig>& listeners, std::ostream& out) {
  bool ok = true;
  for (const auto& l : listeners) {
    if (!l.tls) continue;
    for (const auto& pair : l.tls->certificates) {
      std::string error, warning;
      if (!net::check_certificate_pair(pair, error, warning)) {
        out << "listener " << l.text << ": error: " << error << "\n";
        ok = false;
      } else if (!warning.empty()) {
        out << "listener " << l.text << ": warning: " << warning << "\n";
      }
    }
    std::string error;
    if (ok && !net::TlsServer::create(*l.tls, error)) {
      out << "listener " << l.text << ": error: " << error << "\n";
      ok = false;
    }
  }
  return ok;
}

bool Certificates::open(const std::vector<ListenerConfig>& listeners) {
  bool ok = true;
  for (const auto& l : listeners) {
    names_.push_back(l.text);
    if (!l.tls) {
      servers_.push_back(nullptr);
      continue;
    }
    std::string error;
    auto s = net::TlsServer::create(*l.tls, error);
    if (!s) {
      log_("listener " + l.text + ": " + error);
      ok = false;
    } else {
      log_expiry(l.text, *s);
    }
    servers_.push_back(std::move(s));
  }
  return ok;
}

void Certificates::replace(const std::vector<ListenerConfig>& listeners,
                           std::vector<std::shared_ptr<net::TlsServer>> servers) {
  std::vector<std::chrono::steady_clock::time_point> rotated;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& s : servers) {
    // A kept server keeps its rotation time; a new one starts its own.
    auto it = std::find(servers_.begin(), servers_.end(), s);
    const size_t at = static_cast<size_t>(it - servers_.begin());
    rotated.push_back(s && it != servers_.end() && at < rotated_.size() ? rotated_[at] : now);
  }
  names_.clear();
  for (size_t i = 0; i < listeners.size(); ++i) {
    names_.push_back(listeners[i].text);
    if (servers[i] && std::find(servers_.begin(), servers_.end(), servers[i]) == servers_.end()) {
      log_expiry(listeners[i].text, *servers[i]);
    }
  }
  servers_ = std::move(servers);
  rotated_ = std::move(rotated);
}

void Certificates::log_expiry(const std::string& listener, const net::TlsServer& s) {
  const long long now = static_cast<long long>(std::time(nullptr));
  for (const auto& c : s.certificates()->certs) {
    const long long days = (c.not_after - now) / 86400;
    if (c.not_after <= now) {
      log_("listener " + listener + ": certificate " + c.subject + " has EXPIRED");
    } else if (days < 14) {
      log_("listener " + listener + ": certificate " + c.subject + " expires in " +
           std::to_string(days) + " days");
    }
  }
}

void Certificates::reload(const char* why) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (!servers_[i]) continue;
    std::string error;
    if (servers_[i]->reload(error)) {
      metrics_.tls_reloads_ok.add();
      log_("listener " + names_[i] + ": certificates reloaded (" + why + ")");
      log_expiry(names_[i], *servers_[i]);
    } else if (!error.empty()) {
      metrics_.tls_reloads_failed.add();
      log_("listener " + names_[i] + ": certificates NOT reloaded (" + why + "), still serving " +
           "the previous ones: " + error);
    }
  }
}

void Certificates::rotate_tickets() {
  const auto now = std::chrono::steady_clock::now();
  if (rotated_.size() < servers_.size()) rotated_.resize(servers_.size(), now);
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i] && now - rotated_[i] >= servers_[i]->settings().ticket_rotation) {
      servers_[i]->rotate_tickets();
      rotated_[i] = now;
    }
  }
}

void Certificates::watch(std::chrono::milliseconds interval) {
  interval_ = interval;
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    reload("files changed");
    rotate_tickets();
    watch(interval_);
  });
}

}  // namespace sg::app
