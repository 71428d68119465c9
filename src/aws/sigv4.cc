#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

namespace sg::aws {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string hex(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query components arrive as sent (possibly percent-encoded); SigV4 wants each one decoded
// and re-encoded the one canonical way.
std::string canonical_component(std::string_view raw) {
  std::string decoded;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 &&
        hex_value(raw[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2])));
      i += 2;
    } else {
      decoded.push_back(raw[i]);
    }
  }
  std::string out;
  for (unsigned char c : decoded) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back("0123456789ABCDEF"[c >> 4]);
      out.push_back("0123456789ABCDEF"[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    pairs.emplace_back(
        canonical_component(part.substr(0, eq)),
        eq == std::string_view::npos ? "" : canonical_component(part.substr(eq + 1)));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

// Header values: leading and trailing space removed, inner runs of spaces folded to one.
std::string trimmed(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Sorted (name, value) with duplicates joined by commas in their order.
std::vector<std::pair<std::string, std::string>> canonical_headers(const SigningInput& in) {
  std::vector<std::pair<std::string, std::string>> h;
  for (const auto& [name, value] : in.headers) h.emplace_back(lower(name), trimmed(value));
  std::stable_sort(h.begin(), h.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [name, value] : h) {
    if (!out.empty() && out.back().first == name) {
      out.back().second += "," + value;
    } else {
      out.emplace_back(std::move(name), std::move(value));
    }
  }
  return out;
}

std::string signed_header_names(const std::vector<std::pair<std::string, std::string>>& h) {
  std::string out;
  for (const auto& [name, value] : h) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string scope(const SigningInput& in) {
  return in.amz_date.substr(0, 8) + "/" + in.region + "/" + in.service + "/aws4_request";
}

}  // namespace

std::string amz_date(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex(digest, sizeof digest);
}

std::string canonical_request(const SigningInput& in) {
  const auto headers = canonical_headers(in);
  std::string out = in.method + "\n" + (in.path.empty() ? std::string("/") : in.path) + "\n" +
                    canonical_query(in.query) + "\n";
  for (const auto& [name, value] : headers) out += name + ":" + value + "\n";
  out += "\n" + signed_header_names(headers) + "\n" + sha256_hex(in.payload);
  return out;
}

std::string string_to_sign(const SigningInput& in, const std::string& canonical) {
  return "AWS4-HMAC-SHA256\n" + in.amz_date + "\n" + scope(in) + "\n" + sha256_hex(canonical);
}

std::string signature(const SigningInput& in, std::string_view secret_access_key) {
  std::string key = hmac("AWS4" + std::string(secret_access_key), in.amz_date.substr(0, 8));
  key = hmac(key, in.region);
  key = hmac(key, in.service);
  key = hmac(key, "aws4_request");
  const std::string mac = hmac(key, string_to_sign(in, canonical_request(in)));
  return hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string authorization(const SigningInput& in, const Credentials& creds) {
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope(in) +
         ", SignedHeaders=" + signed_header_names(canonical_headers(in)) +
         ", Signature=" + signature(in, creds.secret_access_key);
}

}  // namespace sg::aws
