#include "net/proxy_protocol.h"

#include <array>
#include <charconv>
#include <cstring>

namespace sg::net {

namespace ip = boost::asio::ip;

namespace {

constexpr std::string_view kV1 = "PROXY ";
constexpr size_t kV1Max = 107;  // including CRLF (the specification's bound)
constexpr std::string_view kV2{"\r\n\r\n\0\r\nQUIT\n", 12};

ProxyParse invalid(const char*& error, const char* why) {
  error = why;
  return ProxyParse::kInvalid;
}

// The next space-separated field of a v1 line.
std::string_view next_field(std::string_view& line) {
  const size_t sp = line.find(' ');
  std::string_view f = line.substr(0, sp);
  line = sp == line.npos ? std::string_view() : line.substr(sp + 1);
  return f;
}

bool parse_port(std::string_view s, uint16_t& out) {
  // Decimal, no sign, no leading zero (except "0" itself).
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

bool parse_address(std::string_view s, bool v6, ip::address& out) {
  if (s.empty() || s.size() > 45 || s.find('\0') != s.npos) return false;
  char buf[46];
  s.copy(buf, s.size());
  buf[s.size()] = '\0';
  boost::system::error_code ec;
  if (v6) {
    out = ip::make_address_v6(buf, ec);
  } else {
    out = ip::make_address_v4(buf, ec);
  }
  return !ec;
}

// Printable ASCII, and CR only as the last byte before LF: a NUL or control byte inside would
// cut a field short where C string functions read it.
bool v1_text(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\r' && i + 1 == line.size()) continue;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

ProxyParse parse_v1(std::string_view data, ProxyHeader& out, const char*& error) {
  const size_t lf = data.substr(0, kV1Max).find('\n');
  const std::string_view seen = lf == data.npos ? data.substr(0, kV1Max) : data.substr(0, lf);
  if (!v1_text(seen)) return invalid(error, "PROXY v1 line not text");
  if (lf == data.npos) {
    if (data.size() >= kV1Max) return invalid(error, "PROXY v1 line longer than 107 bytes");
    return ProxyParse::kNeedMore;
  }
  if (lf == 0 || data[lf - 1] != '\r') return invalid(error, "PROXY v1 line not ended by CRLF");
  std::string_view line = data.substr(kV1.size(), lf - 1 - kV1.size());
  const std::string_view family = next_field(line);
  out.version = 1;
  out.length = lf + 1;
  if (family == "UNKNOWN") {  // whatever follows is ignored, by the specification
    out.has_source = false;
    return ProxyParse::kDone;
  }
  const bool v6 = family == "TCP6";
  if (!v6 && family != "TCP4") return invalid(error, "PROXY v1 family not TCP4, TCP6 or UNKNOWN");
  const std::string_view src = next_field(line);
  const std::string_view dst = next_field(line);
  const std::string_view sport = next_field(line);
  const std::string_view dport = line;
  if (!parse_address(src, v6, out.source) || !parse_address(dst, v6, out.destination)) {
    return invalid(error, "PROXY v1 address not of its family");
  }
  if (dport.find(' ') != dport.npos || !parse_port(sport, out.source_port) ||
      !parse_port(dport, out.destination_port)) {
    return invalid(error, "PROXY v1 port not a decimal 0-65535");
  }
  out.has_source = true;
  return ProxyParse::kDone;
}

// TLVs follow the addresses; each must fit exactly, none is acted on.
bool tlvs_fit(std::string_view tlvs) {
  while (!tlvs.empty()) {
    if (tlvs.size() < 3) return false;
    const size_t len = (static_cast<uint8_t>(tlvs[1]) << 8) | static_cast<uint8_t>(tlvs[2]);
    if (tlvs.size() < 3 + len) return false;
    tlvs.remove_prefix(3 + len);
  }
  return true;
}

// The source and destination addresses of a v2 header (N bytes each); returns what follows.
template <size_t N, typename Make>
const unsigned char* read_addresses(const unsigned char* p, ProxyHeader& out, Make make) {
  std::array<unsigned char, N> a, b;
  std::memcpy(a.data(), p, N);
  std::memcpy(b.data(), p + N, N);
  out.source = make(a);
  out.destination = make(b);
  return p + 2 * N;
}

ProxyParse parse_v2(std::string_view data, ProxyHeader& out, const char*& error) {
  if (data.size() < 16) return ProxyParse::kNeedMore;
  const auto ver_cmd = static_cast<uint8_t>(data[12]);
  const auto fam = static_cast<uint8_t>(data[13]);
  const size_t len = (static_cast<uint8_t>(data[14]) << 8) | static_cast<uint8_t>(data[15]);
  if ((ver_cmd >> 4) != 2) return invalid(error, "PROXY v2 version not 2");
  const unsigned cmd = ver_cmd & 0x0f;
  if (cmd > 1) return invalid(error, "PROXY v2 command not LOCAL or PROXY");
  if (16 + len > kProxyHeaderMax) return invalid(error, "PROXY v2 header too long");
  // The family and length are checked before waiting for the rest: junk is refused at once.
  size_t addresses = 0;
  switch (fam) {
    case 0x00:
      break;  // UNSPEC
    case 0x11:
      addresses = 12;
      break;  // TCP over IPv4
    case 0x21:
      addresses = 36;
      break;  // TCP over IPv6
    default:
      if (cmd == 1) return invalid(error, "PROXY v2 family not TCP over IPv4 or IPv6");
  }
  if (cmd == 1 && len < addresses)
    return invalid(error, "PROXY v2 length shorter than its addresses");
  if (data.size() < 16 + len) return ProxyParse::kNeedMore;
  out.version = 2;
  out.length = 16 + len;
  out.has_source = false;
  if (cmd == 0 || fam == 0x00) return ProxyParse::kDone;  // LOCAL, or nothing to say
  if (!tlvs_fit(data.substr(16 + addresses, len - addresses))) {
    return invalid(error, "PROXY v2 TLV runs past the header");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + 16);
  p = fam == 0x11 ? read_addresses<4>(
                        p, out, [](const auto& b) { return ip::address(ip::make_address_v4(b)); })
                  : read_addresses<16>(
                        p, out, [](const auto& b) { return ip::address(ip::make_address_v6(b)); });
  out.source_port = static_cast<uint16_t>((p[0] << 8) | p[1]);
  out.destination_port = static_cast<uint16_t>((p[2] << 8) | p[3]);
  out.has_source = true;
  return ProxyParse::kDone;
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view data, ProxyHeader& out, const char*& error) {
  error = nullptr;
  out = {};
  // Decide by the longest prefix seen: each byte either still matches a signature or not.
  const size_t n1 = std::min(data.size(), kV1.size());
  if (data.substr(0, n1) == kV1.substr(0, n1)) {
    return data.size() < kV1.size() ? ProxyParse::kNeedMore : parse_v1(data, out, error);
  }
  const size_t n2 = std::min(data.size(), kV2.size());
  if (data.substr(0, n2) == kV2.substr(0, n2)) {
    return data.size() < kV2.size() ? ProxyParse::kNeedMore : parse_v2(data, out, error);
  }
  return invalid(error, "no PROXY protocol header");
}

}  // namespace sg::net
