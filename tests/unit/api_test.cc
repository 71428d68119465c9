#include "admin/api.h"

#include <gtest/gtest.h>

#include "net/cidr.h"

namespace sg {
namespace {

TEST(AdminAuth, ConstantTimeCompareIsExact) {
  EXPECT_TRUE(admin::Api::token_matches("secret-token", "secret-token"));
  EXPECT_FALSE(admin::Api::token_matches("secret-tokem", "secret-token"));
  EXPECT_FALSE(admin::Api::token_matches("secret-token-", "secret-token"));
  EXPECT_FALSE(admin::Api::token_matches("secret", "secret-token"));
  EXPECT_FALSE(admin::Api::token_matches("", "secret-token"));
}

TEST(Cidr, Contains) {
  net::Cidr c;
  ASSERT_TRUE(net::parse_cidr("10.0.0.0/8", c));
  EXPECT_TRUE(net::cidr_contains(c, boost::asio::ip::make_address("10.255.1.2")));
  EXPECT_FALSE(net::cidr_contains(c, boost::asio::ip::make_address("11.0.0.1")));
  EXPECT_FALSE(net::cidr_contains(c, boost::asio::ip::make_address("::1")));
  ASSERT_TRUE(net::parse_cidr("fd00::/8", c));
  EXPECT_TRUE(net::cidr_contains(c, boost::asio::ip::make_address("fd12::1")));
  ASSERT_TRUE(net::parse_cidr("192.168.1.7", c));
  EXPECT_EQ(c.prefix, 32u);
  ASSERT_TRUE(net::parse_cidr("10.1.2.3/20", c));
  EXPECT_TRUE(net::cidr_contains(c, boost::asio::ip::make_address("10.1.15.255")));
  EXPECT_FALSE(net::cidr_contains(c, boost::asio::ip::make_address("10.1.16.0")));
  EXPECT_FALSE(net::parse_cidr("10.0.0.0/33", c));
  EXPECT_FALSE(net::parse_cidr("example.com/8", c));
  EXPECT_FALSE(net::parse_cidr("10.0.0.0/", c));
}

}  // namespace
}  // namespace sg
