// Session-ticket keys for one TLS listener: the key that encrypts new tickets and the ones
// that still decrypt older tickets. Shared by every worker and every certificate's context of
// the listener, so a ticket resumes wherever the listener is served; with a key file shared by
// several routers, on any of them.
//
// Without a file, keys are random and rotate every `rotation`: the new key encrypts, the
// previous one still decrypts (a ticket lives at most two periods), older ones are dropped.
// With a file, the file is the truth: 80 bytes per key (16 name, 32 HMAC, 32 AES), the first
// encrypts, the others only decrypt; rotating is the operator's (write a new file with the new
// key first and the old one after it).
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace sg::net {

struct TicketKey {
  std::array<unsigned char, 16> name;
  std::array<unsigned char, 32> hmac;
  std::array<unsigned char, 32> aes;
};

class TicketKeys {
 public:
  TicketKeys();  // one random key

  // Reads `path` (1 to 8 keys of 80 bytes). False with `error`; the keys in use stay.
  bool load_file(const std::string& path, std::string& error);
  // A new random key encrypts from now on; the previous one still decrypts.
  void rotate();

  // Installs the ticket callback on `ctx`, which then uses these keys.
  void attach(SSL_CTX* ctx);

 private:
  using Ring = std::vector<TicketKey>;  // [0] encrypts
  static int callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt);
  std::atomic<std::shared_ptr<const Ring>> ring_;
};

}  // namespace sg::net
