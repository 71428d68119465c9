// What a TLS listener is configured with (listeners[].tls): certificate/key pairs in PEM files,
// SNI picking one of them, and the protocol and cipher choices.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sg::net {

struct CertificatePair {
  std::string cert;  // PEM: the certificate, then its chain (leaf first)
  std::string key;   // PEM private key
  bool operator==(const CertificatePair&) const = default;
};

struct TlsSettings {
  std::vector<CertificatePair> certificates;  // the first is the default (no or unknown SNI)
  // TLS 1.2 suites (OpenSSL names): ECDHE with AEAD only, ECDSA preferred.
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  // TLS 1.3 suites (OpenSSL's default set, AES-128 first).
  std::string ciphersuites =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  bool tls13_only = false;  // min_version: "1.3"
  std::string hsts;         // a Strict-Transport-Security value to send, or empty
  std::chrono::milliseconds check_interval{30000};  // how often the files are checked for changes
  std::string ticket_key_file;  // session-ticket keys shared with other routers (ticket_keys.h)
  std::chrono::milliseconds ticket_rotation{12 * 3600 * 1000};  // without a key file
  bool http2 = true;  // ALPN offers h2 before http/1.1 (listeners[].http2)
  bool operator==(const TlsSettings&) const = default;
};

}  // namespace sg::net
