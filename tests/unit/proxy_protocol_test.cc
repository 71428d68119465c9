#include "net/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace sg::net {
namespace {

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& body) {
  std::string h = kSig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

const std::string kTcp4Body("\xcb\x00\x71\x09\x0a\x00\x00\x05\xc8\x22\x01\xbb", 12);

ProxyParse parse(const std::string& s, ProxyHeader& h, std::string* why = nullptr) {
  const char* e = nullptr;
  const ProxyParse r = parse_proxy_header(s, h, e);
  if (why) *why = e ? e : "";
  return r;
}

TEST(ProxyProtocol, V1Tcp4And6) {
  ProxyHeader h;
  const std::string in = "PROXY TCP4 203.0.113.9 10.0.0.5 51234 443\r\nGET /";
  ASSERT_EQ(parse(in, h), ProxyParse::kDone);
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.length, in.size() - 5);
  EXPECT_TRUE(h.has_source);
  EXPECT_EQ(h.source.to_string(), "203.0.113.9");
  EXPECT_EQ(h.source_port, 51234);
  EXPECT_EQ(h.destination.to_string(), "10.0.0.5");
  EXPECT_EQ(h.destination_port, 443);
  ASSERT_EQ(parse("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n", h), ProxyParse::kDone);
  EXPECT_EQ(h.source.to_string(), "2001:db8::1");
  ASSERT_EQ(parse("PROXY UNKNOWN whatever follows\r\n", h), ProxyParse::kDone);
  EXPECT_FALSE(h.has_source);
}

TEST(ProxyProtocol, V1IsStrict) {
  ProxyHeader h;
  std::string why;
  const char* bad[] = {
      "PROXY TCP4 203.0.113.9 10.0.0.5 51234 443\n",  // LF without CR
      "PROXY TCP4 2001:db8::1 10.0.0.5 1 2\r\n",      // v6 address in TCP4
      "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",           // v4 in TCP6
      "PROXY TCP4 1.2.3.4 5.6.7.8 080 1\r\n",         // leading zero
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",       // port out of range
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",         // extra field
      "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",          // double space
      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",           // family
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n",          // sign
      "GET / HTTP/1.1\r\n",                           // no header at all
      "\x16\x03\x01\x02\x00",                         // a TLS ClientHello
  };
  for (const char* s : bad) {
    EXPECT_EQ(parse(s, h, &why), ProxyParse::kInvalid) << s;
    EXPECT_FALSE(why.empty()) << s;
  }
  // 107 bytes with no line end: too long, decided without waiting for more.
  EXPECT_EQ(parse("PROXY TCP4 " + std::string(120, '1'), h, &why), ProxyParse::kInvalid);
  EXPECT_EQ(why, "PROXY v1 line longer than 107 bytes");
  EXPECT_EQ(parse(std::string("PROXY TCP4 1.2\x01", 15), h, &why), ProxyParse::kInvalid);
}

TEST(ProxyProtocol, RegressionNulInsideAV1AddressIsRefused) {
  // The address was read as a C string: "2001:db8::2\0junk" passed as 2001:db8::2.
  ProxyHeader h;
  std::string why;
  static const char kRaw[] = "PROXY TCP6 2001:db8::1 2001:db8::2\0\0\x0c 1 65535\r\n";
  const std::string in(kRaw, sizeof kRaw - 1);
  EXPECT_EQ(parse(in, h, &why), ProxyParse::kInvalid);
  EXPECT_EQ(why, "PROXY v1 line not text");
  EXPECT_EQ(parse(std::string("PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n"), h, &why),
            ProxyParse::kInvalid);  // CR only at the end
}

TEST(ProxyProtocol, TruncatedHeadersWaitForMore) {
  ProxyHeader h;
  const std::string v1 = "PROXY TCP4 203.0.113.9 10.0.0.5 51234 443\r\n";
  const std::string v2h = v2(0x21, 0x11, kTcp4Body);
  for (const std::string& full : {v1, v2h}) {
    for (size_t n = 0; n < full.size(); ++n) {
      EXPECT_EQ(parse(full.substr(0, n), h), ProxyParse::kNeedMore) << n;
    }
    EXPECT_EQ(parse(full, h), ProxyParse::kDone);
  }
}

TEST(ProxyProtocol, V2Tcp4WithTlvsAndTcp6) {
  ProxyHeader h;
  const std::string tlvs("\xea\x00\x05vpce1\x04\x00\x00", 11);  // AWS VPC endpoint, NOOP
  const std::string in = v2(0x21, 0x11, kTcp4Body + tlvs) + "GET /";
  ASSERT_EQ(parse(in, h), ProxyParse::kDone);
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.length, 16 + 12 + tlvs.size());
  EXPECT_EQ(h.source.to_string(), "203.0.113.9");
  EXPECT_EQ(h.source_port, 51234);
  EXPECT_EQ(h.destination_port, 443);
  std::string six(32, '\0');
  six[0] = '\x20';
  six[1] = '\x01';
  six[15] = '\x01';
  ASSERT_EQ(parse(v2(0x21, 0x21, six + std::string("\x00\x01\x00\x02", 4)), h), ProxyParse::kDone);
  EXPECT_EQ(h.source.to_string(), "2001::1");
  EXPECT_EQ(h.source_port, 1);
}

TEST(ProxyProtocol, V2LocalAndUnspecKeepThePeer) {
  ProxyHeader h;
  ASSERT_EQ(parse(v2(0x20, 0x00, ""), h), ProxyParse::kDone);  // LOCAL: a health check
  EXPECT_FALSE(h.has_source);
  ASSERT_EQ(parse(v2(0x20, 0x11, kTcp4Body), h), ProxyParse::kDone);  // LOCAL ignores addresses
  EXPECT_FALSE(h.has_source);
  ASSERT_EQ(parse(v2(0x21, 0x00, ""), h), ProxyParse::kDone);
  EXPECT_FALSE(h.has_source);
}

TEST(ProxyProtocol, V2IsStrict) {
  ProxyHeader h;
  std::string why;
  EXPECT_EQ(parse(v2(0x11, 0x11, kTcp4Body), h, &why), ProxyParse::kInvalid);
  EXPECT_EQ(why, "PROXY v2 version not 2");
  EXPECT_EQ(parse(v2(0x22, 0x11, kTcp4Body), h, &why), ProxyParse::kInvalid);
  EXPECT_EQ(why, "PROXY v2 command not LOCAL or PROXY");
  EXPECT_EQ(parse(v2(0x21, 0x12, kTcp4Body), h, &why), ProxyParse::kInvalid);  // UDP
  EXPECT_EQ(why, "PROXY v2 family not TCP over IPv4 or IPv6");
  EXPECT_EQ(parse(v2(0x21, 0x31, kTcp4Body), h, &why), ProxyParse::kInvalid);  // unix
  EXPECT_EQ(parse(v2(0x21, 0x21, kTcp4Body), h, &why), ProxyParse::kInvalid);  // v6, 12 bytes
  EXPECT_EQ(why, "PROXY v2 length shorter than its addresses");
  EXPECT_EQ(parse(v2(0x21, 0x11,
                     kTcp4Body + std::string("\xea\x00\x09"
                                             "ab",
                                             5)),
                  h, &why),
            ProxyParse::kInvalid);
  EXPECT_EQ(why, "PROXY v2 TLV runs past the header");
  EXPECT_EQ(parse(v2(0x21, 0x11, kTcp4Body + "\xea"), h, &why), ProxyParse::kInvalid);
  // Oversized: refused from the fixed part, before the body arrives.
  std::string big = v2(0x21, 0x11, std::string(2000, 'x')).substr(0, 16);
  EXPECT_EQ(parse(big, h, &why), ProxyParse::kInvalid);
  EXPECT_EQ(why, "PROXY v2 header too long");
}

}  // namespace
}  // namespace sg::net
