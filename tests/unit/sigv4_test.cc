// SigV4 against AWS's published test suite (aws-sig-v4-test-suite): the example credentials,
// 2015-08-30T12:36:00Z, us-east-1, service "service", and the signatures the suite publishes.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

namespace sg::aws {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

SigningInput suite(std::string method, std::string query = "") {
  SigningInput in;
  in.method = std::move(method);
  in.path = "/";
  in.query = std::move(query);
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  in.region = "us-east-1";
  in.service = "service";
  in.amz_date = "20150830T123600Z";
  return in;
}

TEST(SigV4, GetVanilla) {
  const SigningInput in = suite("GET");
  const std::string creq = canonical_request(in);
  EXPECT_EQ(creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(string_to_sign(in, creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  Credentials c{"AKIDEXAMPLE", kSecret, "", 0, ""};
  EXPECT_EQ(authorization(in, c),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, PostVanilla) {
  EXPECT_EQ(signature(suite("POST"), kSecret),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
  EXPECT_EQ(signature(suite("GET", "Param2=value2&Param1=value1"), kSecret),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, PostXWwwFormUrlencoded) {
  SigningInput in = suite("POST");
  in.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  in.payload = "Param1=value1";
  EXPECT_EQ(sha256_hex(in.payload),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(signature(in, kSecret),
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4, GetHeaderValueTrim) {
  SigningInput in = suite("GET");
  in.headers.emplace_back("My-Header1", " value1");
  in.headers.emplace_back("My-Header2", " \"a   b   c\"");
  EXPECT_NE(canonical_request(in).find("my-header2:\"a b c\"\n"), std::string::npos);
  EXPECT_EQ(signature(in, kSecret),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST(SigV4, RepeatedHeadersJoinInOrderAndQueryIsReEncoded) {
  SigningInput in = suite("GET", "b=%7e&a=x%20y&a=");
  in.headers.emplace_back("X-Multi", "two");
  in.headers.emplace_back("x-multi", "one");
  const std::string creq = canonical_request(in);
  EXPECT_NE(creq.find("\na=&a=x%20y&b=~\n"), std::string::npos) << creq;
  EXPECT_NE(creq.find("x-multi:two,one\n"), std::string::npos) << creq;
}

TEST(SigV4, AmzDateIsUtc) {
  EXPECT_EQ(amz_date(1440938160), "20150830T123600Z");
  EXPECT_EQ(amz_date(0), "19700101T000000Z");
  EXPECT_EQ(amz_date(1709164800), "20240229T000000Z");
}

}  // namespace
}  // namespace sg::aws
