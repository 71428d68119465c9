// listeners: the addresses the data plane accepts on, and per listener PROXY protocol, TLS and
// the redirect to HTTPS.
#include "app/config_reader.h"

#include "net/address.h"

namespace sg::app {

namespace {

void read_certificates(Reader& r, const YAML::Node& n, net::TlsSettings& tls) {
  if (!n || !n.IsSequence() || n.size() == 0) {
    r.error(n ? n : YAML::Node(), "tls.certificates must be a non-empty list of {cert, key}");
    return;
  }
  for (const auto& item : n) {
    if (!r.mapping(item, "tls.certificates[]", {"cert", "key"})) continue;
    net::CertificatePair pair;
    if (!item["cert"] || !item["key"]) {
      r.error(item, "a certificate needs both cert and key (PEM file paths)");
      continue;
    }
    if (!r.scalar(item["cert"], "cert", pair.cert) || !r.scalar(item["key"], "key", pair.key)) {
      continue;
    }
    tls.certificates.push_back(std::move(pair));
  }
}

std::optional<net::TlsSettings> read_tls(Reader& r, const YAML::Node& n) {
  if (!r.mapping(n, "tls",
                 {"certificates", "ciphers", "ciphersuites", "min_version", "hsts",
                  "check_interval", "ticket_key_file", "ticket_rotation"})) {
    return std::nullopt;
  }
  net::TlsSettings tls;
  if (!n["certificates"]) {
    r.error(n, "tls needs certificates: [{cert: FILE, key: FILE}]");
  } else {
    read_certificates(r, n["certificates"], tls);
  }
  r.duration(n, "check_interval", "tls", tls.check_interval);
  r.duration(n, "ticket_rotation", "tls", tls.ticket_rotation);
  if (n["ticket_key_file"]) r.scalar(n["ticket_key_file"], "ticket_key_file", tls.ticket_key_file);
  if (n["ciphers"]) r.scalar(n["ciphers"], "ciphers", tls.ciphers);
  if (n["ciphersuites"]) r.scalar(n["ciphersuites"], "ciphersuites", tls.ciphersuites);
  if (const YAML::Node v = n["min_version"]) {
    std::string s;
    if (r.scalar(v, "min_version", s)) {
      if (s == "1.3") {
        tls.tls13_only = true;
      } else if (s != "1.2") {
        r.error(v, "tls.min_version must be \"1.2\" or \"1.3\", not '" + s + "'");
      }
    }
  }
  if (const YAML::Node v = n["hsts"]) {
    std::string s;
    Millis age{};
    if (r.scalar(v, "hsts", s)) {
      if (!parse_duration(s, age) || age.count() < 1000) {
        r.error(v, "tls.hsts must be a max-age duration of at least 1s (e.g. 365d is 8760h)");
      } else {
        tls.hsts = "max-age=" + std::to_string(age.count() / 1000);
      }
    }
  }
  return tls;
}

}  // namespace

void read_listeners(Reader& r, const YAML::Node& n, Config& cfg) {
  if (!n.IsSequence() || n.size() == 0) {
    r.error(n, "listeners must be a non-empty list");
    return;
  }
  for (const auto& item : n) {
    if (!r.mapping(item, "listener",
                   {"address", "tls", "proxy_protocol", "redirect_to_https", "http2", "h2c"})) {
      continue;
    }
    std::string addr;
    if (!item["address"]) {
      r.error(item, "listener needs an address (e.g. 127.0.0.1:8080)");
      continue;
    }
    if (!r.scalar(item["address"], "address", addr)) continue;
    ListenerConfig l;
    if (std::string why = net::endpoint_problem(addr, l.endpoint); !why.empty()) {
      r.error(item["address"], "listener address '" + addr + "': " + why);
      continue;
    }
    l.text = addr;
    bool clash = false;
    for (const auto& other : cfg.listeners) {
      if (!net::endpoints_overlap(other.endpoint, l.endpoint)) continue;
      r.error(item["address"], "listener address '" + addr + "' is already taken by listener '" +
                                   other.text + "' (each address is listened on once)");
      clash = true;
      break;
    }
    if (clash) continue;
    r.flag(item, "proxy_protocol", "listener", l.proxy_protocol);
    r.flag(item, "redirect_to_https", "listener", l.redirect_to_https);
    r.flag(item, "http2", "listener", l.http2);
    r.flag(item, "h2c", "listener", l.h2c);
    if (item["tls"]) l.tls = read_tls(r, item["tls"]);
    if (l.tls) l.tls->http2 = l.http2;
    if (l.tls && l.h2c) {
      r.error(item["h2c"],
              "h2c is for a plain listener; a TLS listener offers h2 through ALPN "
              "(listeners[].http2)");
    }
    if (!l.tls && item["http2"] && l.http2) {
      r.error(item["http2"],
              "http2 is for a TLS listener (ALPN); a plain listener speaks "
              "HTTP/2 with h2c: true");
    }
    if (l.tls && l.redirect_to_https) {
      r.error(item["redirect_to_https"],
              "redirect_to_https is for a plain listener; this one already has tls");
    }
    cfg.listeners.push_back(std::move(l));
  }
}

}  // namespace sg::app
