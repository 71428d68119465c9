#include "net/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace sg::net {

namespace {

int ex_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TicketKey random_key() {
  TicketKey k;
  RAND_bytes(k.name.data(), static_cast<int>(k.name.size()));
  RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size()));
  RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size()));
  return k;
}

bool set_mac_key(EVP_MAC_CTX* mac, const TicketKey& k) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
                                        const_cast<unsigned char*>(k.hmac.data()), k.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

TicketKeys::TicketKeys() {
  ring_.store(std::make_shared<const Ring>(Ring{random_key()}));
}

bool TicketKeys::load_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "ticket key file " + path + ": cannot read";
    return false;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty() || bytes.size() % 80 != 0 || bytes.size() > 8 * 80) {
    error = "ticket key file " + path + ": " + std::to_string(bytes.size()) +
            " bytes; expected 80 per key, 1 to 8 keys (e.g. openssl rand 80 > FILE)";
    return false;
  }
  Ring ring(bytes.size() / 80);
  for (size_t i = 0; i < ring.size(); ++i) {
    const char* p = bytes.data() + i * 80;
    std::memcpy(ring[i].name.data(), p, 16);
    std::memcpy(ring[i].hmac.data(), p + 16, 32);
    std::memcpy(ring[i].aes.data(), p + 48, 32);
  }
  ring_.store(std::make_shared<const Ring>(std::move(ring)));
  return true;
}

void TicketKeys::rotate() {
  const auto old = ring_.load();
  ring_.store(std::make_shared<const Ring>(Ring{random_key(), old->front()}));
}

void TicketKeys::attach(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, ex_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeys::callback);
}

// OpenSSL's ticket callback: 1 = done, 2 = decrypted with an old key (issue a fresh ticket),
// 0 = unknown key (full handshake), -1 = failure.
int TicketKeys::callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                         EVP_MAC_CTX* mac, int encrypt) {
  auto* self = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
  if (self == nullptr) return -1;
  const auto ring = self->ring_.load();
  if (encrypt) {
    const TicketKey& k = ring->front();
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    std::memcpy(name, k.name.data(), k.name.size());
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) return -1;
    return set_mac_key(mac, k) ? 1 : -1;
  }
  for (size_t i = 0; i < ring->size(); ++i) {
    const TicketKey& k = (*ring)[i];
    if (std::memcmp(name, k.name.data(), k.name.size()) != 0) continue;
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) return -1;
    if (!set_mac_key(mac, k)) return -1;
    return i == 0 ? 1 : 2;
  }
  return 0;
}

}  // namespace sg::net
