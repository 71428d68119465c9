// The SSRF guard's decisions at the edges of every special range, with the default (empty)
// allow-list and with one: allowed or denied, never judged by the wording of the reason.
#include "net/address_policy.h"

#include <gtest/gtest.h>

namespace sg::net {
namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

tcp::endpoint ep(const char* ip, uint16_t port = 4321) {
  return {make_address(ip), port};
}

Cidr cidr(const char* text) {
  Cidr c;
  EXPECT_TRUE(parse_cidr(text, c)) << text;
  return c;
}

bool allowed(const AddressPolicy& p, const char* ip) {
  return p.check(ep(ip)).empty();
}

TEST(AddressPolicy, DefaultsDenyEverySpecialRangeAndNothingBesideIt) {
  const AddressPolicy p;
  // Each special range, its first and last address, and the addresses just outside it.
  const char* denied[] = {
      "127.0.0.0",
      "127.0.0.1",
      "127.255.255.255",
      "169.254.0.0",
      "169.254.169.254",
      "169.254.255.255",
      "0.0.0.0",
      "0.255.255.255",
      "224.0.0.0",
      "239.255.255.255",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "febf::1",
      "fec0::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:169.254.169.254",
      "::ffff:224.0.0.1",
      "::ffff:0.0.0.1",
  };
  for (const char* ip : denied) EXPECT_FALSE(allowed(p, ip)) << ip;
  const char* ok[] = {
      "126.255.255.255", "128.0.0.0",       "169.253.255.255", "169.255.0.0",  "1.0.0.0",
      "223.255.255.255", "255.255.255.254", "10.0.1.23",       "192.168.1.10", "::2",
      "fe7f::1",         "fd00::5",         "::ffff:10.0.0.1",
  };
  for (const char* ip : ok) EXPECT_TRUE(allowed(p, ip)) << ip;
}

TEST(AddressPolicy, AnAllowListAdmitsOnlyWhatItNamesAndCanNameASpecialRange) {
  const AddressPolicy p({cidr("10.0.0.0/8"), cidr("127.0.0.1/32")}, {});
  EXPECT_TRUE(allowed(p, "10.0.0.0"));
  EXPECT_TRUE(allowed(p, "10.255.255.255"));
  EXPECT_FALSE(allowed(p, "11.0.0.0"));
  EXPECT_FALSE(allowed(p, "9.255.255.255"));
  EXPECT_TRUE(allowed(p, "127.0.0.1"));         // named explicitly
  EXPECT_FALSE(allowed(p, "127.0.0.2"));        // the rest of loopback is not
  EXPECT_TRUE(allowed(p, "::ffff:127.0.0.1"));  // the mapped form is the same address
  EXPECT_FALSE(allowed(p, "169.254.169.254"));
}

TEST(AddressPolicy, OwnListenersAreDeniedEvenWhenAllowed) {
  const AddressPolicy p({cidr("127.0.0.0/8")}, {ep("127.0.0.1", 8080), ep("0.0.0.0", 9901)});
  EXPECT_FALSE(p.check(ep("127.0.0.1", 8080)).empty());
  EXPECT_TRUE(p.check(ep("127.0.0.1", 8081)).empty());
  // A wildcard listener is reachable on every loopback address.
  EXPECT_FALSE(p.check(ep("127.0.0.5", 9901)).empty());
  EXPECT_FALSE(p.check(ep("::ffff:127.0.0.1", 8080)).empty());
}

}  // namespace
}  // namespace sg::net
