// The server side of TLS for one listener: its certificate/key pairs (SNI picks one, the first
// is the default), the protocol and cipher policy, and session tickets. Built once from the
// files and shared by every worker: an SSL_CTX is safe to use from many threads, and sharing
// it means a ticket issued by one worker resumes on any other.
//
// Certificates change without a restart: reload() reads the files again and, if every pair is
// valid, new handshakes use them; established connections keep the context they started with
// (each SSL holds a reference). An invalid new set keeps the old one and says why.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "net/ticket_keys.h"
#include "net/tls_settings.h"

namespace sg::net {

// One loaded pair: its context and the names its certificate is for.
struct LoadedCertificate {
  std::shared_ptr<SSL_CTX> ctx;
  std::vector<std::string> names;  // lower case; "*.example.com" for wildcards
  std::string subject;             // for messages
  long long not_after = 0;         // Unix seconds
};

struct CertificateSet {
  std::vector<LoadedCertificate> certs;  // [0] is the default
  // The one that serves `host` (an SNI name): exact names first, then one-label wildcards,
  // then the default.
  const LoadedCertificate& pick(std::string_view host) const;
};

class TlsServer {
 public:
  // Loads and checks every pair. Null with `error` naming the file and the reason.
  static std::shared_ptr<TlsServer> create(const TlsSettings& settings, std::string& error);

  // A new server-side SSL for a connection, or null (OpenSSL out of memory).
  SSL* new_ssl() const;

  // Reads the files again; true when they changed and the new set is now in use. False with
  // `error` empty: unchanged. False with `error` set: the new files are bad, the old set stays.
  bool reload(std::string& error);

  std::shared_ptr<const CertificateSet> certificates() const { return current_.load(); }
  // A new ticket key (when the keys are not from a file); the previous one still decrypts.
  void rotate_tickets() {
    if (settings_.ticket_key_file.empty()) tickets_.rotate();
  }
  const TlsSettings& settings() const { return settings_; }

 private:
  explicit TlsServer(TlsSettings s) : settings_(std::move(s)) {}
  bool load(std::shared_ptr<const CertificateSet>& out, std::string& error) const;

  TlsSettings settings_;
  mutable TicketKeys tickets_;
  std::atomic<std::shared_ptr<const CertificateSet>> current_;
  std::string fingerprint_;  // of the files' contents, to tell whether a reload changed them
};

// Checks one pair as `sessiongate config check` does: the key matches, the chain is in order
// (each certificate issued by the next), and how long until it expires. Errors in `error`;
// warnings (expiring within 14 days) in `warning`.
bool check_certificate_pair(const CertificatePair& pair, std::string& error, std::string& warning);

}  // namespace sg::net
