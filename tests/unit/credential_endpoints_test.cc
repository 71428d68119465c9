// The credential chain's network sources against stand-ins on loopback: the ECS
// container-credentials endpoint (full URI, authorization token) and EC2 instance metadata
// (IMDSv2: token, role list, role), with caching, refresh before expiry and failing refreshes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "aws/credentials.h"
#include "support/loopback_http.h"

namespace sg::aws {
namespace {

using test::Answer;
using test::LoopbackHttp;
using test::SeenRequest;

std::string iso_in(int seconds) {
  const std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string credential_json(const std::string& id, int expires_in) {
  return R"({"AccessKeyId":")" + id + R"(","SecretAccessKey":"SECRET","Token":"TOKEN",)" +
         R"("Expiration":")" + iso_in(expires_in) + R"("})";
}

class Endpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sg-creds-ep-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    env_["HOME"] = dir_.string();  // no ~/.aws: the files are not configured
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Getenv getenv() {
    return [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
  }
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(Endpoints, ContainerEndpointWithTokenFileIsAskedOnceAndCached) {
  LoopbackHttp ecs([](const SeenRequest&) { return Answer{200, credential_json("ECS", 3600)}; });
  env_["AWS_EC2_METADATA_DISABLED"] = "true";
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url() + "/v2/credentials/task-1";
  std::ofstream(dir_ / "token") << "pod-token\n";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (dir_ / "token").string();
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  EXPECT_EQ(c.access_key_id, "ECS");
  EXPECT_EQ(c.secret_access_key, "SECRET");
  EXPECT_EQ(c.session_token, "TOKEN");
  EXPECT_EQ(c.source, "container credentials endpoint");
  EXPECT_GT(c.expires_at_ms, 0);
  ASSERT_TRUE(chain.get(c, error)) << error;
  const auto seen = ecs.seen();
  ASSERT_EQ(seen.size(), 1u);  // the second call came from the cache
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/v2/credentials/task-1");
  EXPECT_EQ(seen[0].header("authorization"), "pod-token");  // trimmed
}

TEST_F(Endpoints, ContainerEndpointErrorsAreErrorsNotAFallThrough) {
  LoopbackHttp ecs([](const SeenRequest&) { return Answer{403, "denied"}; });
  LoopbackHttp imds([](const SeenRequest&) { return Answer{200, "never asked"}; });
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url() + "/creds";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  EXPECT_FALSE(chain.get(c, error));
  EXPECT_NE(error.find("container credentials endpoint answered 403"), std::string::npos) << error;
  EXPECT_TRUE(imds.seen().empty());
}

TEST_F(Endpoints, EnvironmentKeysWinOverTheContainerEndpoint) {
  LoopbackHttp ecs([](const SeenRequest&) { return Answer{200, credential_json("ECS", 3600)}; });
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url() + "/creds";
  env_["AWS_ACCESS_KEY_ID"] = "ENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "S";
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  EXPECT_EQ(c.access_key_id, "ENV");
  EXPECT_TRUE(ecs.seen().empty());
}

// Regression: while a refresh failed and the cached credentials were still valid, every call
// asked the endpoint again (under the chain's lock, with its timeouts) instead of waiting out
// the retry pause.
TEST_F(Endpoints, FailingRefreshKeepsValidCredentialsAndPausesBeforeAskingAgain) {
  std::atomic<int> status{200};
  LoopbackHttp ecs([&](const SeenRequest&) {
    // Expires in two minutes: inside the five-minute refresh window, so every get() refreshes.
    return Answer{status.load(), status == 200 ? credential_json("ECS", 120) : "down"};
  });
  env_["AWS_EC2_METADATA_DISABLED"] = "true";
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url() + "/creds";
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  EXPECT_EQ(ecs.seen().size(), 2u);  // near expiry: fetched again
  status = 500;
  ASSERT_TRUE(chain.get(c, error)) << error;  // the refresh fails; the cached ones still hold
  EXPECT_EQ(c.access_key_id, "ECS");
  EXPECT_EQ(ecs.seen().size(), 3u);
  ASSERT_TRUE(chain.get(c, error)) << error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  EXPECT_EQ(ecs.seen().size(), 3u);  // within the retry pause: not asked again
}

Answer imds_answer(const SeenRequest& r) {
  if (r.method == "PUT" && r.target == "/latest/api/token") {
    if (r.header("x-aws-ec2-metadata-token-ttl-seconds").empty()) return {400, "no ttl"};
    return {200, "imds-token"};
  }
  if (r.header("x-aws-ec2-metadata-token") != "imds-token") return {401, ""};
  if (r.target == "/latest/meta-data/iam/security-credentials/") return {200, "router-role\n"};
  if (r.target == "/latest/meta-data/iam/security-credentials/router-role") {
    return {200, credential_json("IMDS", 3600)};
  }
  return {404, ""};
}

TEST_F(Endpoints, InstanceMetadataV2TokenThenRoleThenCredentials) {
  LoopbackHttp imds(imds_answer);
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  ASSERT_TRUE(chain.get(c, error)) << error;
  EXPECT_EQ(c.access_key_id, "IMDS");
  EXPECT_EQ(c.source, "instance metadata (role router-role)");
  const auto seen = imds.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(seen[2].target, "/latest/meta-data/iam/security-credentials/router-role");
}

TEST_F(Endpoints, InstanceWithoutAProfileSaysSo) {
  LoopbackHttp imds([](const SeenRequest& r) {
    return r.method == "PUT" ? Answer{200, "imds-token"} : Answer{404, ""};
  });
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  CredentialChain chain("", getenv());
  Credentials c;
  std::string error;
  EXPECT_FALSE(chain.get(c, error));
  EXPECT_NE(error.find("no instance profile"), std::string::npos) << error;
}

}  // namespace
}  // namespace sg::aws
