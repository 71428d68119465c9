// security: SSRF allow-list, preview-link keys and defaults, trusted proxies.
#include "app/config_reader.h"

#include <cctype>
#include <cstdlib>

namespace sg::app {

void read_cidrs(Reader& r, const YAML::Node& list, std::string_view what,
                std::vector<net::Cidr>& out) {
  if (!list.IsSequence()) {
    r.error(list, std::string(what) + " must be a list of CIDRs (e.g. 10.0.0.0/8 or fd00::/8)");
    return;
  }
  for (const auto& item : list) {
    std::string text;
    net::Cidr c;
    if (!r.scalar(item, "cidr", text)) continue;
    if (!net::parse_cidr(text, c)) {
      r.error(item, "'" + text + "' is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)");
      continue;
    }
    out.push_back(c);
  }
}

void read_signing_keys(Reader& r, const YAML::Node& keys, std::string_view where,
                       std::string_view what, std::vector<access::LinkKey>& out) {
  const std::string w(what);
  if (!keys.IsSequence()) {
    r.error(keys, std::string(where) + " must be a list of {id, secret | secret_env, sign}");
    return;
  }
  int signing = 0;
  for (const auto& k : keys) {
    if (!r.mapping(k, w, {"id", "secret", "secret_env", "sign"})) continue;
    access::LinkKey key;
    if (!k["id"] || !r.scalar(k["id"], "id", key.id) || key.id.empty() || key.id.size() > 32 ||
        key.id.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos) {
      r.error(k["id"] ? k["id"] : k, w + " id must be 1-32 of A-Z a-z 0-9 _ -");
    }
    if (k["secret"]) r.scalar(k["secret"], "secret", key.secret);
    if (k["secret_env"]) {
      std::string var;
      r.scalar(k["secret_env"], "secret_env", var);
      const char* v = std::getenv(var.c_str());
      if (!v) r.error(k["secret_env"], "environment variable " + var + " is not set");
      if (v) key.secret = v;
    }
    if (key.secret.size() < 32) {
      r.error(k, w + " '" + key.id + "' needs a secret of at least 32 characters");
    }
    if (k["sign"]) {
      std::string v;
      r.scalar(k["sign"], "sign", v);
      key.sign = v == "true";
      if (v != "true" && v != "false") r.error(k["sign"], "sign must be true or false");
    }
    signing += key.sign;
    out.push_back(key);
  }
  if (signing != 1) r.error(keys, "exactly one " + w + " must have sign: true");
}

void read_security(Reader& r, const YAML::Node& sec, Config& cfg) {
  if (r.mapping(sec, "security",
                {"upstream_allow_cidrs", "access_default", "link_keys", "token_param",
                 "trusted_proxies"})) {
    if (const YAML::Node d = sec["access_default"]) {
      std::string v;
      r.scalar(d, "access_default", v);
      if (v != "public" && v != "link") r.error(d, "access_default must be public or link");
      cfg.security.default_link = v == "link";
    }
    if (const YAML::Node tp = sec["token_param"]) {
      r.scalar(tp, "token_param", cfg.security.token_param);
      bool ok = !cfg.security.token_param.empty() && cfg.security.token_param.size() <= 32;
      for (char c : cfg.security.token_param) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      }
      if (!ok) r.error(tp, "token_param must be 1-32 letters, digits or '_'");
    }
    if (const YAML::Node list = sec["trusted_proxies"]) {
      read_cidrs(r, list, "security.trusted_proxies", cfg.security.trusted_proxies);
    }
    if (const YAML::Node keys = sec["link_keys"]) {
      read_signing_keys(r, keys, "security.link_keys", "link key", cfg.security.link_keys);
    }
    if (cfg.security.default_link && cfg.security.link_keys.empty()) {
      r.error(sec, "access_default: link needs link_keys to sign and verify preview links");
    }
    if (const YAML::Node list = sec["upstream_allow_cidrs"]) {
      read_cidrs(r, list, "security.upstream_allow_cidrs", cfg.security.upstream_allow_cidrs);
    }
  }
}

}  // namespace sg::app
