// The credential chain's sources that need no network: environment, shared files, the
// endpoints' JSON, and the order the chain tries them in.
#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace sg::aws {
namespace {

TEST(Credentials, ProfileFromCredentialsFileWinsOverConfig) {
  const char* creds =
      "[default]\naws_access_key_id = AKID1\naws_secret_access_key = S1\n"
      "[dev]\naws_access_key_id=AKID2\naws_secret_access_key=S2\n"
      "aws_session_token = T2\n";
  const char* config =
      "[profile dev]\naws_access_key_id = OTHER\nregion = us-west-2\n"
      "[profile cfg]\naws_access_key_id = AKID3\naws_secret_access_key = S3\n";
  Credentials c;
  std::string error;
  ASSERT_TRUE(profile_credentials(creds, config, "dev", c, error)) << error;
  EXPECT_EQ(c.access_key_id, "AKID2");
  EXPECT_EQ(c.session_token, "T2");
  EXPECT_EQ(c.source, "profile dev");
  ASSERT_TRUE(profile_credentials(creds, config, "cfg", c, error)) << error;
  EXPECT_EQ(c.access_key_id, "AKID3");
  ASSERT_TRUE(profile_credentials(creds, config, "default", c, error));
  EXPECT_EQ(c.access_key_id, "AKID1");
}

TEST(Credentials, ProfileErrorsNameTheProblem) {
  Credentials c;
  std::string error;
  EXPECT_FALSE(profile_credentials("", "", "prod", c, error));
  EXPECT_NE(error.find("profile prod is in neither"), std::string::npos) << error;
  EXPECT_FALSE(profile_credentials("", "[profile sso]\nrole_arn = arn:aws:iam::1:role/r\n", "sso",
                                   c, error));
  EXPECT_NE(error.find("uses role_arn"), std::string::npos) << error;
  EXPECT_FALSE(profile_credentials("[half]\naws_access_key_id = A\n", "", "half", c, error));
  EXPECT_NE(error.find("has no aws_access_key_id and aws_secret_access_key"), std::string::npos);
}

TEST(Credentials, EndpointJson) {
  Credentials c;
  std::string error;
  ASSERT_TRUE(parse_credential_json(
      R"({"Code":"Success","AccessKeyId":"ASIA","SecretAccessKey":"s","Token":"t",)"
      R"("Expiration":"2026-12-02T20:00:00Z"})",
      c, error))
      << error;
  EXPECT_EQ(c.access_key_id, "ASIA");
  EXPECT_EQ(c.session_token, "t");
  EXPECT_EQ(c.expires_at_ms, parse_iso8601_ms("2026-12-02T20:00:00Z"));
  EXPECT_FALSE(parse_credential_json(R"({"Code":"Failed","Message":"no role"})", c, error));
  EXPECT_NE(error.find("no role"), std::string::npos);
  EXPECT_FALSE(parse_credential_json("not json", c, error));
  EXPECT_FALSE(parse_credential_json(R"({"AccessKeyId":"A"})", c, error));
  EXPECT_FALSE(parse_credential_json(
      R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})", c, error));
}

TEST(Credentials, Iso8601) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:10Z"), 10000);
  EXPECT_EQ(parse_iso8601_ms("2015-08-30T12:36:00.123Z"), 1440938160000);
  EXPECT_EQ(parse_iso8601_ms("2015-08-30T12:36:00+00:00"), 1440938160000);
  EXPECT_EQ(parse_iso8601_ms("2015-08-30 12:36:00"), -1);
  EXPECT_EQ(parse_iso8601_ms("2015-13-30T12:36:00Z"), -1);
  EXPECT_EQ(parse_iso8601_ms(""), -1);
}

class Chain : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sg-creds-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / ".aws");
    env_["HOME"] = dir_.string();
    env_["AWS_EC2_METADATA_DISABLED"] = "true";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Getenv getenv() {
    return [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / ".aws" / name) << text;
  }
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(Chain, EnvironmentComesFirst) {
  write("credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = S\n");
  env_["AWS_ACCESS_KEY_ID"] = "ENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "S";
  env_["AWS_SESSION_TOKEN"] = "T";
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  EXPECT_EQ(c.access_key_id, "ENV");
  EXPECT_EQ(c.session_token, "T");
  EXPECT_EQ(c.source, "environment");
}

TEST_F(Chain, ProfileFromAwsProfileOrTheConstructor) {
  write("credentials",
        "[default]\naws_access_key_id = D\naws_secret_access_key = S\n"
        "[ops]\naws_access_key_id = OPS\naws_secret_access_key = S\n");
  Credentials c;
  std::string error;
  ASSERT_TRUE(CredentialChain("", getenv()).get(c, error)) << error;
  EXPECT_EQ(c.access_key_id, "D");
  env_["AWS_PROFILE"] = "ops";
  ASSERT_TRUE(CredentialChain("", getenv()).get(c, error)) << error;
  EXPECT_EQ(c.access_key_id, "OPS");
  env_["AWS_PROFILE"] = "missing";
  EXPECT_FALSE(CredentialChain("", getenv()).get(c, error));
  EXPECT_NE(error.find("profile missing"), std::string::npos) << error;
  ASSERT_TRUE(CredentialChain("ops", getenv()).get(c, error)) << error;
}

TEST_F(Chain, NothingConfiguredSaysWhatToSet) {
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  EXPECT_FALSE(chain.get(c, error));
  EXPECT_NE(error.find("AWS_ACCESS_KEY_ID"), std::string::npos) << error;
}

TEST_F(Chain, ABrokenContainerEndpointIsAnErrorNotAFallThrough) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "ftp://127.0.0.1/creds";
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  EXPECT_FALSE(chain.get(c, error));
  EXPECT_NE(error.find("container credentials address"), std::string::npos) << error;
}

}  // namespace
}  // namespace sg::aws
