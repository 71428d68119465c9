#include "access/link_token.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>

namespace sg::access {

namespace {

std::string base64url(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (i + 1 < n) v |= uint32_t{data[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (i + 1 < n) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && s.size() <= 20 && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kMalformed:
      return "malformed";
    case Verdict::kWrongSession:
      return "wrong_session";
    case Verdict::kExpired:
      return "expired";
    case Verdict::kRevoked:
      return "revoked";
    case Verdict::kUnknownKey:
      return "unknown_key";
    case Verdict::kBadSignature:
      return "bad_signature";
  }
  return "unknown";
}

LinkSigner::LinkSigner(std::vector<LinkKey> keys) : keys_(std::move(keys)) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].sign) signing_ = static_cast<int>(i);
  }
}

std::string LinkSigner::mac(const LinkKey& key, std::string_view payload) const {
  unsigned char digest[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &len);
  return base64url(digest, len);
}

std::string LinkSigner::issue(std::string_view session, int64_t expires_s, uint64_t epoch) const {
  if (signing_ < 0) return {};
  const LinkKey& key = keys_[static_cast<size_t>(signing_)];
  unsigned char nonce[8];
  RAND_bytes(nonce, sizeof nonce);
  std::string payload = "v1.";
  payload.append(session).append(".").append(std::to_string(expires_s)).append(".");
  payload.append(std::to_string(epoch)).append(".").append(base64url(nonce, sizeof nonce));
  payload.append(".").append(key.id);
  return payload + "." + mac(key, payload);
}

Verdict LinkSigner::verify(std::string_view token, std::string_view session, int64_t now_s,
                           uint64_t epoch) const {
  if (token.size() > 512) return Verdict::kMalformed;
  std::string_view part[7];
  size_t start = 0;
  for (int i = 0; i < 7; ++i) {
    size_t dot = i == 6 ? std::string_view::npos : token.find('.', start);
    if (i < 6 && dot == std::string_view::npos) return Verdict::kMalformed;
    part[i] = token.substr(start, dot == std::string_view::npos ? dot : dot - start);
    start = dot + 1;
  }
  if (part[0] != "v1" || part[6].find('.') != std::string_view::npos) return Verdict::kMalformed;
  int64_t expires = 0;
  uint64_t token_epoch = 0;
  if (!parse_number(part[2], expires) || !parse_number(part[3], token_epoch)) {
    return Verdict::kMalformed;
  }
  const LinkKey* key = nullptr;
  for (const auto& k : keys_) {
    if (k.id == part[5]) key = &k;
  }
  if (!key) return Verdict::kUnknownKey;
  // The signature is checked before any claim, so a forged token learns nothing.
  std::string_view payload = token.substr(0, token.size() - part[6].size() - 1);
  std::string expected = mac(*key, payload);
  if (expected.size() != part[6].size() ||
      CRYPTO_memcmp(expected.data(), part[6].data(), expected.size()) != 0) {
    return Verdict::kBadSignature;
  }
  if (part[1] != session) return Verdict::kWrongSession;
  if (now_s >= expires) return Verdict::kExpired;
  if (token_epoch != epoch) return Verdict::kRevoked;
  return Verdict::kValid;
}

}  // namespace sg::access
