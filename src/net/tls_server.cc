#include "net/tls_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>

namespace sg::net {

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// The names a certificate serves: its DNS subject alternative names, or (only without any)
// its common name.
std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type != GEN_DNS) continue;
      const auto* s = g->d.dNSName;
      names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<size_t>(ASN1_STRING_length(s))}));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    const int n =
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (n > 0) names.push_back(lower({cn, static_cast<size_t>(n)}));
  }
  return names;
}

std::string subject_of(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

// Seconds from now until `t` (negative: in the past).
long long seconds_until(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  if (!ASN1_TIME_diff(&days, &secs, nullptr, t)) return 0;
  return static_cast<long long>(days) * 86400 + secs;
}

int on_servername(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;  // no SNI: the default certificate
  const auto set = static_cast<const TlsServer*>(arg)->certificates();
  const LoadedCertificate& c = set->pick(name);
  if (c.ctx.get() != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, c.ctx.get());
  return SSL_TLSEXT_ERR_OK;
}

// ALPN: http/1.1 when the client offers it. A client offering only other protocols gets no
// ALPN answer and HTTP/1.1, as browsers and curl expect of a server without them.
// What a listener speaks, in its order of preference (the wire format of ALPN lists).
constexpr unsigned char kH2First[] = "\x02h2\x08http/1.1";
constexpr unsigned char kHttp1Only[] = "\x08http/1.1";

int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
            unsigned int inlen, void* arg) {
  const bool h2 = arg != nullptr;
  const unsigned char* ours = h2 ? kH2First : kHttp1Only;
  const unsigned int ours_len = h2 ? sizeof kH2First - 1 : sizeof kHttp1Only - 1;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, ours, ours_len, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// A context with the listener's policy; the certificate is added by the caller.
SSL_CTX* new_context(const TlsSettings& s, const TlsServer* server, TicketKeys& tickets,
                     std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = openssl_error();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, s.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  // No renegotiation (a DoS lever and never needed here), server cipher order, and a peer that
  // closes without close_notify is an ordinary end of stream, as for plain TCP.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle connections give their 2 x 16 KiB record buffers back; writes may be partial and
  // retried from a different address holding the same bytes (see tls_io.h).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read whole records (and what follows) per read() instead of header, then body.
  SSL_CTX_set_read_ahead(ctx, 1);
  // Resumption is by tickets only: no per-context session cache to lock across workers.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  if (!SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384")) {
    error = "tls groups: " + openssl_error();
  } else if (!s.ciphers.empty() && !SSL_CTX_set_cipher_list(ctx, s.ciphers.c_str())) {
    error = "tls.ciphers '" + s.ciphers + "': no cipher OpenSSL knows (" + openssl_error() + ")";
  } else if (!SSL_CTX_set_ciphersuites(ctx, s.ciphersuites.c_str())) {
    error =
        "tls.ciphersuites '" + s.ciphersuites + "': not TLS 1.3 suites (" + openssl_error() + ")";
  }
  if (!error.empty()) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
  SSL_CTX_set_tlsext_servername_arg(ctx, const_cast<TlsServer*>(server));
  // The argument only says whether h2 is offered (non-null: it is).
  SSL_CTX_set_alpn_select_cb(ctx, on_alpn,
                             s.http2 ? const_cast<unsigned char*>(kH2First) : nullptr);
  tickets.attach(ctx);
  return ctx;
}

bool wildcard_matches(std::string_view pattern, std::string_view host) {
  // "*.example.com" serves "a.example.com", not "example.com" or "a.b.example.com".
  if (pattern.size() < 3 || pattern.substr(0, 2) != "*.") return false;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size() || !host.ends_with(suffix)) return false;
  return host.substr(0, host.size() - suffix.size()).find('.') == std::string_view::npos;
}

// What the listener's files hold, reduced to a hash: a reload with the same contents is a no-op.
bool fingerprint(const TlsSettings& s, std::string& out, std::string& error) {
  std::string contents;
  auto add = [&](const char* what, const std::string& path) {
    std::string bytes;
    if (!read_file(path, bytes)) {
      error = std::string(what) + " " + path + ": cannot read";
      return false;
    }
    contents += bytes;
    return true;
  };
  for (const auto& p : s.certificates) {
    if (!add("certificate", p.cert) || !add("key", p.key)) return false;
  }
  if (!s.ticket_key_file.empty() && !add("ticket key file", s.ticket_key_file)) return false;
  out = std::to_string(std::hash<std::string>{}(contents));
  return true;
}

}  // namespace

const LoadedCertificate& CertificateSet::pick(std::string_view host) const {
  const std::string h = lower(host);
  for (const auto& c : certs) {
    if (std::find(c.names.begin(), c.names.end(), h) != c.names.end()) return c;
  }
  for (const auto& c : certs) {
    for (const auto& n : c.names) {
      if (wildcard_matches(n, h)) return c;
    }
  }
  return certs.front();
}

bool TlsServer::load(std::shared_ptr<const CertificateSet>& out, std::string& error) const {
  auto set = std::make_shared<CertificateSet>();
  for (const auto& pair : settings_.certificates) {
    std::string why;
    SSL_CTX* raw = new_context(settings_, this, tickets_, why);
    if (raw == nullptr) {
      error = why;
      return false;
    }
    std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
    if (SSL_CTX_use_certificate_chain_file(raw, pair.cert.c_str()) != 1) {
      error = "certificate " + pair.cert + ": " + openssl_error();
      return false;
    }
    if (SSL_CTX_use_PrivateKey_file(raw, pair.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
      error = mismatch ? "key " + pair.key + " does not match certificate " + pair.cert
                       : "key " + pair.key + ": " + openssl_error();
      ERR_clear_error();
      return false;
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
      error = "key " + pair.key + " does not match certificate " + pair.cert;
      ERR_clear_error();
      return false;
    }
    X509* leaf = SSL_CTX_get0_certificate(raw);
    LoadedCertificate c;
    c.ctx = std::move(ctx);
    c.names = names_of(leaf);
    c.subject = subject_of(leaf);
    c.not_after =
        static_cast<long long>(std::time(nullptr)) + seconds_until(X509_get0_notAfter(leaf));
    set->certs.push_back(std::move(c));
  }
  if (set->certs.empty()) {
    error = "no certificates";
    return false;
  }
  out = std::move(set);
  return true;
}

std::shared_ptr<TlsServer> TlsServer::create(const TlsSettings& settings, std::string& error) {
  std::shared_ptr<TlsServer> s(new TlsServer(settings));
  if (!settings.ticket_key_file.empty() &&
      !s->tickets_.load_file(settings.ticket_key_file, error)) {
    return nullptr;
  }
  std::shared_ptr<const CertificateSet> set;
  if (!s->load(set, error)) return nullptr;
  s->current_.store(std::move(set));
  if (!fingerprint(settings, s->fingerprint_, error)) return nullptr;
  return s;
}

SSL* TlsServer::new_ssl() const {
  const auto set = current_.load();
  return SSL_new(set->certs.front().ctx.get());
}

bool TlsServer::reload(std::string& error) {
  error.clear();
  std::string fp;
  if (!fingerprint(settings_, fp, error)) return false;
  if (fp == fingerprint_) return false;
  std::shared_ptr<const CertificateSet> set;
  if (!load(set, error)) return false;
  if (!settings_.ticket_key_file.empty() && !tickets_.load_file(settings_.ticket_key_file, error)) {
    return false;
  }
  current_.store(std::move(set));
  fingerprint_ = fp;
  return true;
}

bool check_certificate_pair(const CertificatePair& pair, std::string& error, std::string& warning) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_file(pair.cert.c_str(), "r"),
                                                     BIO_free);
  if (!cert_bio) {
    error = "certificate " + pair.cert + ": cannot read";
    ERR_clear_error();
    return false;
  }
  std::vector<std::unique_ptr<X509, decltype(&X509_free)>> chain;
  while (X509* x = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(x, X509_free);
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (chain.empty()) {
    error = "certificate " + pair.cert + ": no PEM certificate in it";
    return false;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_file(pair.key.c_str(), "r"), BIO_free);
  EVP_PKEY* raw_key =
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw_key, EVP_PKEY_free);
  if (!key) {
    error = "key " + pair.key + ": " + (key_bio ? "no PEM private key in it" : "cannot read");
    ERR_clear_error();
    return false;
  }
  if (X509_check_private_key(chain[0].get(), key.get()) != 1) {
    error = "key " + pair.key + " does not match certificate " + pair.cert;
    ERR_clear_error();
    return false;
  }
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (X509_check_issued(chain[i + 1].get(), chain[i].get()) != X509_V_OK) {
      error = "certificate " + pair.cert + ": chain out of order (certificate " +
              std::to_string(i + 2) + " did not issue certificate " + std::to_string(i + 1) +
              "; the leaf comes first, then each issuer)";
      return false;
    }
  }
  const long long left = seconds_until(X509_get0_notAfter(chain[0].get()));
  if (left <= 0) {
    error = "certificate " + pair.cert + " (" + subject_of(chain[0].get()) + ") has expired";
    return false;
  }
  if (seconds_until(X509_get0_notBefore(chain[0].get())) > 0) {
    error = "certificate " + pair.cert + " is not valid yet";
    return false;
  }
  if (left < 14 * 86400) {
    warning = "certificate " + pair.cert + " (" + subject_of(chain[0].get()) + ") expires in " +
              std::to_string(left / 86400) + " days";
  }
  return true;
}

}  // namespace sg::net
