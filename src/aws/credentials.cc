#include "aws/credentials.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "aws/http_client.h"

namespace sg::aws {

namespace json = boost::json;

namespace {

constexpr int64_t kRefreshBeforeMs = 5 * 60 * 1000;
constexpr int64_t kRetryAfterFailureMs = 5000;
constexpr char kEcsHost[] = "http://169.254.170.2";
constexpr char kImdsDefault[] = "http://169.254.169.254";

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

// The keys of section `name` in an INI-style shared file; false when there is no such section.
bool section(std::string_view text, std::string_view name,
             std::vector<std::pair<std::string, std::string>>& out) {
  bool in = false, found = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      in = close != std::string_view::npos && trim(line.substr(1, close - 1)) == name;
      found = found || in;
      continue;
    }
    if (!in) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(std::string(trim(line.substr(0, eq))), std::string(trim(line.substr(eq + 1))));
  }
  return found;
}

std::string read_file(const std::string& path, bool& exists) {
  std::ifstream in(path, std::ios::binary);
  exists = static_cast<bool>(in);
  std::stringstream ss;
  if (exists) ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int64_t parse_iso8601_ms(std::string_view text) {
  int y, mo, d, h, mi, s;
  char tail[32] = {0};
  const std::string t(text.substr(0, 40));
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%31s", &y, &mo, &d, &h, &mi, &s, tail) < 6) {
    return -1;
  }
  std::string_view rest(tail);
  if (rest.starts_with(".")) {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
  }
  if (rest != "Z" && rest != "+00:00") return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

bool profile_credentials(std::string_view credentials_file, std::string_view config_file,
                         const std::string& profile, Credentials& out, std::string& error) {
  error.clear();
  std::vector<std::pair<std::string, std::string>> keys;
  bool found = section(credentials_file, profile, keys);
  const std::string config_name = profile == "default" ? profile : "profile " + profile;
  found = section(config_file, config_name, keys) || found;
  if (!found) {
    error = "profile " + profile + " is in neither the credentials nor the config file";
    return false;
  }
  Credentials c;
  for (const auto& [k, v] : keys) {
    // The credentials file was read first: its values win over the config file's.
    if (k == "aws_access_key_id" && c.access_key_id.empty()) c.access_key_id = v;
    if (k == "aws_secret_access_key" && c.secret_access_key.empty()) c.secret_access_key = v;
    if (k == "aws_session_token" && c.session_token.empty()) c.session_token = v;
    if (c.empty() && (k == "role_arn" || k.starts_with("sso_") || k == "credential_process" ||
                      k == "web_identity_token_file")) {
      error = "profile " + profile + " uses " + k +
              ", which sessiongate does not support: give it aws_access_key_id and "
              "aws_secret_access_key, or run with a role (ECS task role or EC2 instance profile)";
    }
  }
  if (c.empty()) {
    if (error.empty()) {
      error = "profile " + profile + " has no aws_access_key_id and aws_secret_access_key";
    }
    return false;
  }
  error.clear();
  c.source = "profile " + profile;
  out = std::move(c);
  return true;
}

bool parse_credential_json(std::string_view body, Credentials& out, std::string& error) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o) {
    error = "credentials endpoint answered something other than a JSON object";
    return false;
  }
  auto text = [o](const char* k) -> std::string {
    const json::value* f = o->if_contains(k);
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  if (const std::string code = text("Code"); !code.empty() && code != "Success") {
    error = "credentials endpoint answered Code " + code + ": " + text("Message");
    return false;
  }
  Credentials c;
  c.access_key_id = text("AccessKeyId");
  c.secret_access_key = text("SecretAccessKey");
  c.session_token = text("Token");
  if (c.empty()) {
    error = "credentials endpoint answered without AccessKeyId and SecretAccessKey";
    return false;
  }
  if (const std::string exp = text("Expiration"); !exp.empty()) {
    c.expires_at_ms = parse_iso8601_ms(exp);
    if (c.expires_at_ms < 0) {
      error = "credentials endpoint answered an unreadable Expiration: " + exp.substr(0, 40);
      return false;
    }
  }
  out = std::move(c);
  return true;
}

CredentialChain::CredentialChain(std::string profile, Getenv env)
    : profile_(std::move(profile)), env_(std::move(env)) {}

const char* CredentialChain::env(const char* name) const {
  const char* v = env_ ? env_(name) : std::getenv(name);
  return v && *v ? v : nullptr;
}

bool CredentialChain::get(Credentials& out, std::string& error) {
  std::lock_guard lock(mu_);
  const int64_t now = wall_ms();
  if (have_ && (cached_.expires_at_ms == 0 || now + kRefreshBeforeMs < cached_.expires_at_ms)) {
    out = cached_;
    return true;
  }
  if (now < retry_at_ms_) {  // a look failed a moment ago: do not ask again on every call
    if (have_ && now < cached_.expires_at_ms) {
      out = cached_;
      return true;
    }
    error = last_error_;
    return false;
  }
  Credentials fresh;
  if (resolve(fresh, error)) {
    retry_at_ms_ = 0;
    cached_ = fresh;
    have_ = true;
    out = std::move(fresh);
    return true;
  }
  retry_at_ms_ = now + kRetryAfterFailureMs;
  last_error_ = error;
  if (have_ && now < cached_.expires_at_ms) {
    out = cached_;  // the refresh failed, but what we hold is still valid: use it meanwhile
    return true;
  }
  return false;
}

bool CredentialChain::resolve(Credentials& out, std::string& error) {
  if (from_env(out)) return true;
  for (auto source : {&CredentialChain::from_files, &CredentialChain::from_container_endpoint,
                      &CredentialChain::from_instance_metadata}) {
    const int r = (this->*source)(out, error);
    if (r != 0) return r > 0;
  }
  error =
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile in "
      "~/.aws/credentials, or run with an ECS task role or EC2 instance profile";
  return false;
}

bool CredentialChain::from_env(Credentials& out) {
  const char* id = env("AWS_ACCESS_KEY_ID");
  const char* secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id || !secret) return false;
  out = {};
  out.access_key_id = id;
  out.secret_access_key = secret;
  if (const char* t = env("AWS_SESSION_TOKEN")) out.session_token = t;
  out.source = "environment";
  return true;
}

int CredentialChain::from_files(Credentials& out, std::string& error) {
  const char* home = env("HOME");
  const char* cred_path = env("AWS_SHARED_CREDENTIALS_FILE");
  const char* conf_path = env("AWS_CONFIG_FILE");
  const std::string cred = cred_path ? cred_path
                           : home    ? std::string(home) + "/.aws/credentials"
                                     : "";
  const std::string conf = conf_path ? conf_path : home ? std::string(home) + "/.aws/config" : "";
  bool cred_exists = false, conf_exists = false;
  const std::string cred_text = cred.empty() ? "" : read_file(cred, cred_exists);
  const std::string conf_text = conf.empty() ? "" : read_file(conf, conf_exists);
  const char* env_profile = env("AWS_PROFILE");
  const bool named = !profile_.empty() || env_profile;
  const std::string profile = !profile_.empty() ? profile_ : env_profile ? env_profile : "default";
  if (!cred_exists && !conf_exists) {
    if (!named) return 0;
    error = "profile " + profile + " was asked for, but neither " + cred + " nor " + conf +
            " can be read";
    return -1;
  }
  std::string why;
  if (profile_credentials(cred_text, conf_text, profile, out, why)) return 1;
  // The default profile may simply not exist (the files hold other profiles): look further.
  // A named profile that does not work is an error, never a silent fall-through.
  if (!named && why.find("is in neither") != std::string::npos) return 0;
  error = why;
  return -1;
}

int CredentialChain::from_container_endpoint(Credentials& out, std::string& error) {
  const char* relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const char* full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full) return 0;
  const std::string url = relative ? std::string(kEcsHost) + relative : std::string(full);
  const size_t scheme_end = url.find("://");
  const size_t path_at = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  Endpoint ep;
  std::string why;
  if (scheme_end == std::string::npos || !parse_endpoint_url(url.substr(0, path_at), ep, why)) {
    error = "container credentials address " + url + ": " + why;
    return -1;
  }
  HttpRequest req;
  req.target = path_at == std::string::npos ? "/" : url.substr(path_at);
  std::string token;
  if (const char* file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    bool exists = false;
    token = std::string(trim(read_file(file, exists)));
    if (!exists) {
      error = std::string("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ") + file + " cannot be read";
      return -1;
    }
  } else if (const char* t = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = t;
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  req.headers.emplace_back("Accept", "application/json");
  HttpResponse resp;
  if (auto f = http_once(ep, req, resp, {1000, 2000})) {
    error = "container credentials endpoint " + ep.authority() + ": " + f.message;
    return -1;
  }
  if (resp.status != 200) {
    error = "container credentials endpoint answered " + std::to_string(resp.status);
    return -1;
  }
  if (!parse_credential_json(resp.body, out, error)) return -1;
  out.source = "container credentials endpoint";
  return 1;
}

int CredentialChain::from_instance_metadata(Credentials& out, std::string& error) {
  if (const char* off = env("AWS_EC2_METADATA_DISABLED"); off && std::string_view(off) == "true") {
    return 0;
  }
  const char* configured = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  Endpoint ep;
  std::string why;
  std::string base = configured ? configured : kImdsDefault;
  if (!parse_endpoint_url(base, ep, why)) {
    error = "AWS_EC2_METADATA_SERVICE_ENDPOINT " + base + ": " + why;
    return -1;
  }
  const HttpTimeouts t{1000, 2000};
  HttpRequest token_req;
  token_req.method = "PUT";
  token_req.target = "/latest/api/token";
  token_req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  HttpResponse resp;
  auto failed = [&](const std::string& what) {
    error = "instance metadata " + ep.authority() + ": " + what;
    // Off EC2 nothing answers there: that is "no credentials here", not a broken setup.
    return configured ? -1 : 0;
  };
  if (auto f = http_once(ep, token_req, resp, t)) return failed(f.message);
  if (resp.status != 200) return failed("token request answered " + std::to_string(resp.status));
  const std::string token(trim(resp.body));
  HttpRequest role_req;
  role_req.target = "/latest/meta-data/iam/security-credentials/";
  role_req.headers.emplace_back("X-aws-ec2-metadata-token", token);
  if (auto f = http_once(ep, role_req, resp, t)) return failed(f.message);
  if (resp.status != 200) {
    error = "instance metadata: no instance profile (role list answered " +
            std::to_string(resp.status) + ")";
    return -1;
  }
  const std::string role(trim(std::string_view(resp.body).substr(0, resp.body.find('\n'))));
  if (role.empty() || role.find('/') != std::string::npos) {
    error = "instance metadata: no usable role name";
    return -1;
  }
  role_req.target += role;
  if (auto f = http_once(ep, role_req, resp, t)) return failed(f.message);
  if (resp.status != 200) {
    error = "instance metadata: role " + role + " answered " + std::to_string(resp.status);
    return -1;
  }
  if (!parse_credential_json(resp.body, out, error)) return -1;
  out.source = "instance metadata (role " + role + ")";
  return 1;
}

}  // namespace sg::aws
