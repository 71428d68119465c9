#include "proxy/client_address.h"

#include <gtest/gtest.h>

#include "http/parser.h"

namespace sg::proxy {
namespace {

namespace ip = boost::asio::ip;

std::vector<net::Cidr> cidrs(std::initializer_list<const char*> list) {
  std::vector<net::Cidr> out;
  for (const char* s : list) {
    net::Cidr c;
    EXPECT_TRUE(net::parse_cidr(s, c)) << s;
    out.push_back(c);
  }
  return out;
}

// The client behind `peer` for a request carrying `fields` (complete header lines).
std::string client(const std::string& fields, const char* peer,
                   const std::vector<net::Cidr>& trusted) {
  const std::string raw = "GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n";
  http::RequestHead req;
  EXPECT_EQ(http::parse_request(raw, {}, req).state, http::ParseState::kComplete) << raw;
  return client_behind(req, ip::make_address(peer), trusted).to_string();
}

TEST(ClientAddress, TheRightMostUntrustedHopIsTheClient) {
  const auto trusted = cidrs({"10.0.0.0/8"});
  // An ALB (10.0.0.5) in front: it appended the client it saw.
  EXPECT_EQ(client("X-Forwarded-For: 203.0.113.9\r\n", "10.0.0.5", trusted), "203.0.113.9");
  // The client put a spoofed address first; the ALB appended the real one.
  EXPECT_EQ(client("X-Forwarded-For: 1.2.3.4, 203.0.113.9\r\n", "10.0.0.5", trusted),
            "203.0.113.9");
  // CloudFront (untrusted here) then an ALB: the CloudFront edge is what we can vouch for.
  EXPECT_EQ(client("X-Forwarded-For: 203.0.113.9, 130.176.0.1\r\n", "10.0.0.5", trusted),
            "130.176.0.1");
  // ... and with CloudFront's range trusted too, the viewer.
  EXPECT_EQ(client("X-Forwarded-For: 203.0.113.9, 130.176.0.1\r\n", "10.0.0.5",
                   cidrs({"10.0.0.0/8", "130.176.0.0/16"})),
            "203.0.113.9");
}

TEST(ClientAddress, SeveralFieldLinesAreOneList) {
  const auto trusted = cidrs({"10.0.0.0/8"});
  EXPECT_EQ(
      client("X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 10.1.1.1\r\n", "10.0.0.5", trusted),
      "203.0.113.9");
}

TEST(ClientAddress, WithoutAChainOrWhenEveryHopIsTrustedThePeerOrLeftMostHop) {
  const auto trusted = cidrs({"10.0.0.0/8"});
  EXPECT_EQ(client("", "10.0.0.5", trusted), "10.0.0.5");
  EXPECT_EQ(client("X-Forwarded-For: 10.9.9.9, 10.1.1.1\r\n", "10.0.0.5", trusted), "10.9.9.9");
}

TEST(ClientAddress, JunkEndsTheWalkAtTheLastVouchedHop) {
  const auto trusted = cidrs({"10.0.0.0/8"});
  EXPECT_EQ(client("X-Forwarded-For: 203.0.113.9, unknown, 10.1.1.1\r\n", "10.0.0.5", trusted),
            "10.1.1.1");
  EXPECT_EQ(client("X-Forwarded-For: not-an-address\r\n", "10.0.0.5", trusted), "10.0.0.5");
  EXPECT_EQ(client("X-Forwarded-For: 203.0.113.9,, \r\n", "10.0.0.5", trusted), "203.0.113.9");
}

TEST(ClientAddress, PortsBracketsAndMappedAddresses) {
  const auto trusted = cidrs({"10.0.0.0/8", "fd00::/8"});
  EXPECT_EQ(client("X-Forwarded-For: 203.0.113.9:4711\r\n", "10.0.0.5", trusted), "203.0.113.9");
  EXPECT_EQ(client("X-Forwarded-For: [2001:db8::1]:4711\r\n", "10.0.0.5", trusted), "2001:db8::1");
  EXPECT_EQ(client("X-Forwarded-For: 2001:db8::2\r\n", "fd00::1", trusted), "2001:db8::2");
  EXPECT_EQ(client("X-Forwarded-For: ::ffff:203.0.113.9\r\n", "10.0.0.5", trusted), "203.0.113.9");
  ip::address a;
  EXPECT_FALSE(parse_forwarded_element("[2001:db8::1", a));
  EXPECT_FALSE(parse_forwarded_element("[2001:db8::1]x", a));
  EXPECT_FALSE(parse_forwarded_element(std::string(80, '1'), a));
  EXPECT_FALSE(parse_forwarded_element("", a));
}

}  // namespace
}  // namespace sg::proxy
