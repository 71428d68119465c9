#include "http/parser.h"

#include "http/chars.h"

#include <cstdint>
#include <cstring>

namespace sg::http {

using chars::is_digit;
using chars::is_field_char;
using chars::is_ows;
using chars::is_tchar;

namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Parses the field section starting at `pos` up to and including the empty line.
// On success sets `pos` just past the final CRLF.
ParseResult parse_fields(std::string_view buf, size_t& pos, const ParseLimits& limits,
                         std::vector<Header>& headers, uint32_t& present, int too_large_status) {
  const size_t start = pos;
  const size_t end = buf.size();
  auto over_limit = [&](size_t at) { return at - start > limits.head_bytes; };
  for (;;) {
    if (over_limit(pos)) return ParseResult::fail(too_large_status, "header section too large");
    if (pos >= end) return ParseResult::incomplete();
    char c = buf[pos];
    if (c == '\r') {
      if (pos + 1 >= end) return ParseResult::incomplete();
      if (buf[pos + 1] != '\n') return ParseResult::fail(400, "bare CR in header section");
      pos += 2;
      return ParseResult::complete(pos);
    }
    if (c == '\n') return ParseResult::fail(400, "bare LF in header section");
    if (is_ows(c)) return ParseResult::fail(400, "obsolete line folding is not allowed");
    if (headers.size() >= limits.fields) {
      return ParseResult::fail(too_large_status, "too many header fields");
    }
    // field-name
    const size_t name_start = pos;
    pos = chars::scan_name(buf, pos);
    if (pos >= end) {
      if (over_limit(pos)) return ParseResult::fail(too_large_status, "header section too large");
      return ParseResult::incomplete();
    }
    if (buf[pos] == '_') {
      // Upstreams that map headers to CGI-style variables cannot tell X_Real_IP from X-Real-IP.
      return ParseResult::fail(400, "underscore in header field name");
    }
    if (buf[pos] != ':') {
      if (is_ows(buf[pos]))
        return ParseResult::fail(400, "whitespace before colon in header field");
      return ParseResult::fail(400, "invalid character in header field name");
    }
    if (pos == name_start) return ParseResult::fail(400, "empty header field name");
    std::string_view name = buf.substr(name_start, pos - name_start);
    ++pos;  // ':'
    const size_t value_start = pos;
    pos = chars::scan_field_value(buf, pos);
    if (pos >= end) {
      if (over_limit(pos)) return ParseResult::fail(too_large_status, "header section too large");
      return ParseResult::incomplete();
    }
    if (buf[pos] == '\n') return ParseResult::fail(400, "bare LF in header field");
    if (buf[pos] != '\r') return ParseResult::fail(400, "invalid character in header field value");
    if (pos + 1 >= end) return ParseResult::incomplete();
    if (buf[pos + 1] != '\n') return ParseResult::fail(400, "bare CR in header field");
    std::string_view value = trim_ows(buf.substr(value_start, pos - value_start));
    const bool canonical = value.data() == name.data() + name.size() + 2 &&
                           buf[value_start] == ' ' &&
                           value.data() + value.size() == buf.data() + pos;
    pos += 2;
    const Field id = classify_field(name);
    present |= bit(id);
    headers.emplace_back(name, value, id, canonical);
  }
}

bool parse_uint(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 18) return false;  // 18 digits never overflow uint64
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// Content-Length: digits only; repeated fields must agree exactly.
const char* read_content_length(const std::vector<Header>& headers, uint32_t fields, bool& present,
                                uint64_t& length) {
  present = false;
  if ((fields & bit(Field::kContentLength)) == 0) return nullptr;
  for (const auto& h : headers) {
    if (h.id != Field::kContentLength) continue;
    uint64_t v = 0;
    if (!parse_uint(h.value, v)) return "invalid Content-Length";
    if (present && v != length) return "conflicting Content-Length values";
    present = true;
    length = v;
  }
  return nullptr;
}

// A comma-separated list of tokens with optional whitespace around items, in one pass. Empty
// items and anything that is not a token make the whole list invalid.
bool split_list(std::string_view value, std::vector<std::string_view>& out) {
  const size_t n = value.size();
  size_t i = 0;
  for (;;) {
    while (i < n && is_ows(value[i])) ++i;
    const size_t start = i;
    while (i < n && is_tchar(value[i])) ++i;
    if (i == start) return false;
    out.push_back(value.substr(start, i - start));
    while (i < n && is_ows(value[i])) ++i;
    if (i == n) return true;
    if (value[i] != ',') return false;
    ++i;
  }
}

enum class TeVerdict { kAbsent, kChunked, kNotChunked, kUnsupported, kInvalid };

// Every Transfer-Encoding field, read as one list of codings.
TeVerdict read_transfer_encoding(const std::vector<Header>& headers, uint32_t fields) {
  if ((fields & bit(Field::kTransferEncoding)) == 0) return TeVerdict::kAbsent;
  std::vector<std::string_view> codings;
  bool present = false;
  for (const auto& h : headers) {
    if (h.id != Field::kTransferEncoding) continue;
    present = true;
    if (!split_list(h.value, codings)) return TeVerdict::kInvalid;
  }
  if (!present) return TeVerdict::kAbsent;
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    if (iequals(codings[i], "chunked")) return TeVerdict::kInvalid;  // chunked applied twice
  }
  if (!iequals(codings.back(), "chunked")) return TeVerdict::kNotChunked;
  return codings.size() == 1 ? TeVerdict::kChunked : TeVerdict::kUnsupported;
}

bool read_connection(const std::vector<Header>& headers, uint32_t fields,
                     std::vector<std::string_view>& tokens) {
  if ((fields & bit(Field::kConnection)) == 0) return true;
  for (const auto& h : headers) {
    if (h.id == Field::kConnection && !split_list(h.value, tokens)) return false;
  }
  return true;
}

bool has_token(const std::vector<std::string_view>& tokens, std::string_view t) {
  for (auto v : tokens) {
    if (iequals(v, t)) return true;
  }
  return false;
}

// host [":" port] with host a reg-name or a bracketed IPv6 literal.
bool valid_authority(std::string_view a) {
  if (a.empty()) return false;
  size_t i = 0;
  if (a[0] == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (size_t k = 1; k < close; ++k) {
      char c = a[k];
      if (!(chars::hex_value(c) >= 0 || c == ':' || c == '.')) return false;
    }
    i = close + 1;
  } else {
    while (i < a.size() && chars::kHostChar[static_cast<uint8_t>(a[i])]) ++i;
    if (i == 0) return false;
  }
  if (i == a.size()) return true;
  if (a[i] != ':') return false;
  std::string_view port = a.substr(i + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!is_digit(c)) return false;
  }
  return true;
}

Method method_of(std::string_view m) {
  static constexpr std::pair<std::string_view, Method> kMethods[] = {
      {"GET", Method::kGet},     {"HEAD", Method::kHead},     {"POST", Method::kPost},
      {"PUT", Method::kPut},     {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
      {"PATCH", Method::kPatch}, {"TRACE", Method::kTrace}};
  for (const auto& [name, id] : kMethods) {
    if (m == name) return id;
  }
  return Method::kOther;
}

// "HTTP/1.1" -> minor 1. Returns 0 ok, 400 malformed, 505 well-formed but unsupported.
int parse_version(std::string_view v, int& minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' ||
      !is_digit(v[7])) {
    return 400;
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) return 505;
  minor = v[7] - '0';
  return 0;
}

// Locates the CRLF that ends the line at `pos` without validating its content.
// Returns npos when the line is not complete yet.
size_t line_end(std::string_view buf, size_t pos, size_t max_len, bool& too_long) {
  const size_t limit = std::min(buf.size(), pos + max_len + 1);
  const size_t i = chars::find_cr_or_lf(buf, pos, limit);
  if (i < limit) return i;
  too_long = buf.size() > pos + max_len;
  return std::string_view::npos;
}

}  // namespace

ParseResult parse_request(std::string_view buf, const ParseLimits& limits, RequestHead& out) {
  out.clear();
  size_t pos = 0;
  // RFC 9112 2.2: ignore empty lines before the request line (a few, CRLF only).
  for (int skipped = 0; pos < buf.size() && (buf[pos] == '\r' || buf[pos] == '\n'); ++skipped) {
    if (buf[pos] == '\n') return ParseResult::fail(400, "bare LF before request line");
    if (pos + 1 >= buf.size()) return ParseResult::incomplete();
    if (buf[pos + 1] != '\n') return ParseResult::fail(400, "bare CR before request line");
    if (skipped == 4) return ParseResult::fail(400, "too many empty lines before request line");
    pos += 2;
  }
  const size_t line_start = pos;
  bool too_long = false;
  size_t eol = line_end(buf, pos, limits.request_line, too_long);
  if (eol == std::string_view::npos) {
    if (too_long) return ParseResult::fail(414, "request line too long");
    // Reject obvious junk early instead of waiting for a line that will never be valid.
    for (size_t i = pos; i < buf.size() && buf[i] != ' '; ++i) {
      if (!is_tchar(buf[i])) return ParseResult::fail(400, "invalid method");
    }
    return ParseResult::incomplete();
  }
  if (buf[eol] == '\n') return ParseResult::fail(400, "bare LF in request line");
  if (eol + 1 >= buf.size()) return ParseResult::incomplete();
  if (buf[eol + 1] != '\n') return ParseResult::fail(400, "bare CR in request line");
  std::string_view line = buf.substr(line_start, eol - line_start);

  size_t sp1 = 0;
  while (sp1 < line.size() && is_tchar(line[sp1])) ++sp1;
  if (sp1 == 0 || sp1 >= line.size() || line[sp1] != ' ') {
    return ParseResult::fail(400, "invalid method");
  }
  out.method = line.substr(0, sp1);
  out.method_id = method_of(out.method);
  size_t t = sp1 + 1;
  const size_t sp2 = chars::scan_target(line, t);
  if (sp2 == t) return ParseResult::fail(400, "invalid request target");
  if (sp2 == line.size()) return ParseResult::fail(400, "missing HTTP version (HTTP/0.9)");
  if (line[sp2] != ' ') return ParseResult::fail(400, "invalid character in request target");
  std::string_view target = line.substr(t, sp2 - t);
  int status = parse_version(line.substr(sp2 + 1), out.version_minor);
  if (status == 400) return ParseResult::fail(400, "invalid HTTP version");
  if (status == 505) return ParseResult::fail(505, "HTTP version not supported");
  if (out.method == "CONNECT") return ParseResult::fail(501, "CONNECT is not supported");

  std::string_view authority;
  if (target[0] == '/') {
    out.target = target;
  } else if (target == "*" && out.method_id == Method::kOptions) {
    out.target = target;
  } else {
    size_t scheme_len = 0;
    if (target.size() > 7 && iequals(target.substr(0, 7), "http://")) scheme_len = 7;
    if (target.size() > 8 && iequals(target.substr(0, 8), "https://")) scheme_len = 8;
    if (scheme_len == 0) return ParseResult::fail(400, "invalid request target");
    size_t slash = target.find_first_of("/?", scheme_len);
    authority = target.substr(scheme_len, slash == target.npos ? target.npos : slash - scheme_len);
    if (!valid_authority(authority)) return ParseResult::fail(400, "invalid authority in target");
    // An absolute-form without a path means "/"; the empty path is kept as "/" below.
    out.target = slash == target.npos ? std::string_view("/") : target.substr(slash);
    if (out.target[0] == '?') return ParseResult::fail(400, "absolute-form target without path");
  }
  size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view() : out.target.substr(q + 1);
  if (out.target.find('#') != std::string_view::npos) {
    return ParseResult::fail(400, "fragment in request target");
  }

  pos = eol + 2;
  ParseResult fields = parse_fields(buf, pos, limits, out.headers, out.fields, 431);
  if (fields.state != ParseState::kComplete) return fields;

  // Host: exactly one, well formed.
  int hosts = 0;
  std::string_view host;
  for (const auto& h : out.headers) {
    if (h.id == Field::kHost) {
      ++hosts;
      host = h.value;
    }
  }
  if (hosts > 1) return ParseResult::fail(400, "duplicate Host header");
  if (hosts == 0 && out.version_minor == 1) return ParseResult::fail(400, "missing Host header");
  if (hosts == 1 && !valid_authority(host)) return ParseResult::fail(400, "invalid Host header");
  out.host = authority.empty() ? host : authority;

  bool has_length = false;
  if (const char* err =
          read_content_length(out.headers, out.fields, has_length, out.content_length)) {
    return ParseResult::fail(400, err);
  }
  switch (read_transfer_encoding(out.headers, out.fields)) {
    case TeVerdict::kAbsent:
      out.framing = has_length && out.content_length > 0 ? Framing::kLength : Framing::kNone;
      break;
    case TeVerdict::kChunked:
      if (has_length) return ParseResult::fail(400, "both Content-Length and Transfer-Encoding");
      if (out.version_minor == 0) return ParseResult::fail(400, "Transfer-Encoding in HTTP/1.0");
      out.framing = Framing::kChunked;
      break;
    case TeVerdict::kUnsupported:
      return ParseResult::fail(501, "transfer coding other than chunked");
    case TeVerdict::kNotChunked:
      return ParseResult::fail(400, "Transfer-Encoding does not end in chunked");
    case TeVerdict::kInvalid:
      return ParseResult::fail(400, "invalid Transfer-Encoding");
  }

  if (!read_connection(out.headers, out.fields, out.connection_tokens)) {
    return ParseResult::fail(400, "invalid Connection header");
  }
  out.keep_alive = out.version_minor == 1 ? !has_token(out.connection_tokens, "close")
                                          : has_token(out.connection_tokens, "keep-alive") &&
                                                !has_token(out.connection_tokens, "close");
  std::string_view upgrade = out.header(Field::kUpgrade);
  out.upgrade =
      out.version_minor == 1 && !upgrade.empty() && has_token(out.connection_tokens, "upgrade");
  std::string_view expect = out.header(Field::kExpect);
  if (!expect.empty()) {
    if (!iequals(expect, "100-continue")) return ParseResult::fail(417, "unsupported expectation");
    out.expect_continue = out.version_minor == 1;
  }
  return ParseResult::complete(pos);
}

ParseResult parse_response(std::string_view buf, const ParseLimits& limits, Method request_method,
                           ResponseHead& out) {
  out.clear();
  bool too_long = false;
  size_t eol = line_end(buf, 0, limits.request_line, too_long);
  if (eol == std::string_view::npos) {
    if (too_long) return ParseResult::fail(502, "upstream status line too long");
    if (buf.size() >= 5 && buf.substr(0, 5) != "HTTP/") {
      return ParseResult::fail(502, "upstream sent no HTTP status line");
    }
    return ParseResult::incomplete();
  }
  if (buf[eol] == '\n') return ParseResult::fail(502, "bare LF in upstream status line");
  if (eol + 1 >= buf.size()) return ParseResult::incomplete();
  if (buf[eol + 1] != '\n') return ParseResult::fail(502, "bare CR in upstream status line");
  std::string_view line = buf.substr(0, eol);
  if (line.size() < 12 || parse_version(line.substr(0, 8), out.version_minor) != 0 ||
      line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    return ParseResult::fail(502, "invalid upstream status line");
  }
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (out.status < 100 || out.status > 599)
    return ParseResult::fail(502, "invalid upstream status");
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (char c : out.reason) {
    if (!is_field_char(c)) return ParseResult::fail(502, "invalid upstream reason phrase");
  }
  size_t pos = eol + 2;
  ParseResult fields = parse_fields(buf, pos, limits, out.headers, out.fields, 502);
  if (fields.state == ParseState::kError) {
    fields.error.status = 502;
    return fields;
  }
  if (fields.state != ParseState::kComplete) return fields;

  bool has_length = false;
  if (const char* err =
          read_content_length(out.headers, out.fields, has_length, out.content_length)) {
    return ParseResult::fail(502, err);
  }
  TeVerdict te = read_transfer_encoding(out.headers, out.fields);
  if (te == TeVerdict::kInvalid)
    return ParseResult::fail(502, "invalid upstream Transfer-Encoding");
  if (te != TeVerdict::kAbsent && has_length) {
    return ParseResult::fail(502, "upstream sent both Content-Length and Transfer-Encoding");
  }
  if (!read_connection(out.headers, out.fields, out.connection_tokens)) {
    return ParseResult::fail(502, "invalid upstream Connection header");
  }
  out.keep_alive = out.version_minor == 1 ? !has_token(out.connection_tokens, "close")
                                          : has_token(out.connection_tokens, "keep-alive") &&
                                                !has_token(out.connection_tokens, "close");
  const bool no_body =
      out.status < 200 || out.status == 204 || out.status == 304 || request_method == Method::kHead;
  if (no_body) {
    out.framing = Framing::kNone;
  } else if (te == TeVerdict::kChunked) {
    out.framing = Framing::kChunked;
  } else if (te != TeVerdict::kAbsent) {
    // Relaying a coding we cannot frame would need the raw bytes; refuse rather than guess.
    return ParseResult::fail(502, "upstream transfer coding other than chunked");
  } else if (has_length) {
    out.framing = out.content_length > 0 ? Framing::kLength : Framing::kNone;
  } else {
    out.framing = Framing::kUntilClose;
    out.keep_alive = false;
  }
  return ParseResult::complete(pos);
}

}  // namespace sg::http
