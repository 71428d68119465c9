#include "access/decide.h"

#include "routing/session_id.h"

namespace sg::access {

namespace {

Decision forbid(Verdict why, bool nothing_presented) {
  Decision d;
  d.action = Action::kForbid;
  d.detail = nothing_presented ? "no preview link or token"
                               : "preview link " + std::string(to_string(why));
  return d;
}

// The link in the query, and the query without it.
std::string_view take_token(std::string_view query, std::string_view param, std::string& rest) {
  std::string_view token;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    if (kv.size() > param.size() && kv.substr(0, param.size()) == param &&
        kv[param.size()] == '=') {
      token = kv.substr(param.size() + 1);
    } else if (!kv.empty()) {
      if (!rest.empty()) rest += '&';
      rest += kv;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return token;
}

}  // namespace

Decision decide(const http::RequestHead& req, const registry::Route& route, int64_t now_ms,
                const Policy& policy, bool secure) {
  if (!needs_link(route, policy)) return {};
  const std::string& id = route.session_id;
  const int64_t now_s = now_ms / 1000;
  auto verify = [&](std::string_view token) {
    return policy.links->verify(token, id, now_s, route.link_epoch);
  };
  // 1. A link in the query: exchanged for a cookie, and the URL cleaned of it.
  std::string clean_query;
  const std::string_view token = take_token(req.query, policy.token_param, clean_query);
  if (!token.empty()) {
    const Verdict v = verify(token);
    if (v != Verdict::kValid) return forbid(v, false);
    Decision d;
    d.action = Action::kRedirect;
    d.location.assign(req.path);
    if (!clean_query.empty()) d.location.append("?").append(clean_query);
    d.set_cookie =
        "sg_access_" + id + "=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Lax";
    if (secure) d.set_cookie += "; Secure";
    return d;
  }
  Verdict last = Verdict::kMalformed;
  bool presented = false;
  Decision allow;
  // 2. A header, for programs.
  const std::string_view header = req.header(http::Field::kXSessiongateToken);
  if (!header.empty()) {
    presented = true;
    last = verify(header);
    if (last == Verdict::kValid) {
      allow.strip_token_header = true;
      return allow;
    }
  }
  const std::string_view auth = req.header(http::Field::kAuthorization);
  if (auth.size() > 10 && http::iequals(auth.substr(0, 7), "bearer ") &&
      auth.substr(7, 3) == "v1.") {
    presented = true;
    last = verify(auth.substr(7));
    if (last == Verdict::kValid) {
      allow.strip_authorization = true;
      return allow;
    }
  }
  // 3. The cookie a link visit set.
  const std::string cookie_name = "sg_access_" + id;
  const std::string_view cookies = req.header(http::Field::kCookie);
  const std::string_view cookie = routing::cookie_value(cookies, cookie_name);
  if (!cookie.empty()) {
    presented = true;
    last = verify(cookie);
    if (last == Verdict::kValid) {
      allow.strip_cookie = true;
      allow.forwarded_cookie = without_cookie(cookies, cookie_name);
      return allow;
    }
  }
  return forbid(last, !presented);
}

std::string without_cookie(std::string_view header, std::string_view name) {
  std::string out;
  size_t i = 0;
  while (i < header.size()) {
    const size_t end = header.find(';', i);
    std::string_view pair = header.substr(i, end == std::string_view::npos ? end : end - i);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (!pair.empty() && pair.substr(0, eq) != name) {
      if (!out.empty()) out += "; ";
      out += pair;
    }
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return out;
}

}  // namespace sg::access
