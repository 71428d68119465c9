// Wake-on-request pieces alone: the webhook signature (RFC 4231 vectors), the circuit breaker,
// what a webhook's status means, the command's placeholders, the hold caps, and the `wake:`
// configuration with its errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "app/config.h"
#include "lifecycle/circuit_breaker.h"
#include "lifecycle/command_hook.h"
#include "lifecycle/signature.h"
#include "lifecycle/webhook.h"
#include "proxy/holds.h"

namespace sg {
namespace {

using namespace std::chrono_literals;

TEST(WakeSignature, Rfc4231Vectors) {
  EXPECT_EQ(lifecycle::hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(lifecycle::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WakeSignature, SignsTheTimestampAndTheBody) {
  EXPECT_EQ(lifecycle::sign_body("Jefe", 1700000000, "{}"),
            "sha256=" + lifecycle::hmac_sha256_hex("Jefe", "1700000000.{}"));
  EXPECT_NE(lifecycle::sign_body("Jefe", 1700000000, "{}"),
            lifecycle::sign_body("Jefe", 1700000001, "{}"));
}

TEST(WakeCircuitBreaker, OpensAfterFailuresThenOneTrialDecides) {
  lifecycle::CircuitBreaker b(3, 1000ms);
  auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(b.allow(t));
    b.failed(t);
  }
  b.succeeded();  // a success resets the count
  for (int i = 0; i < 3; ++i) b.failed(t);
  EXPECT_TRUE(b.open(t));
  EXPECT_FALSE(b.allow(t + 999ms));
  EXPECT_TRUE(b.allow(t + 1000ms)) << "one trial after the cooldown";
  EXPECT_FALSE(b.allow(t + 1001ms)) << "only one while it runs";
  b.failed(t + 1100ms);
  EXPECT_FALSE(b.allow(t + 2000ms));
  EXPECT_TRUE(b.allow(t + 2100ms));
  b.succeeded();
  EXPECT_FALSE(b.open(t + 2100ms));
  EXPECT_TRUE(b.allow(t + 2100ms));
}

TEST(WakeWebhook, StatusLinesAndWhatTheyMean) {
  EXPECT_EQ(lifecycle::response_status("HTTP/1.1 202 Accepted\r\n"), 202);
  EXPECT_EQ(lifecycle::response_status("HTTP/1.0 500 x\r\n"), 500);
  EXPECT_EQ(lifecycle::response_status("HTTP/2 200\r\n"), 0);
  EXPECT_EQ(lifecycle::response_status("HTTP/1.1 2x0 x\r\n"), 0);
  EXPECT_EQ(lifecycle::response_status("junk"), 0);
  EXPECT_TRUE(lifecycle::result_of_status(204).ok);
  auto r = lifecycle::result_of_status(503);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, "error");
  EXPECT_TRUE(r.retryable);
  r = lifecycle::result_of_status(401);
  EXPECT_EQ(r.failure, "rejected");
  EXPECT_FALSE(r.retryable);
  EXPECT_TRUE(lifecycle::result_of_status(429).retryable);
  EXPECT_EQ(lifecycle::result_of_status(0).failure, "error");
}

TEST(WakeWebhook, TheRequestIsSignedAndFramed) {
  boost::asio::io_context io;
  lifecycle::WebhookTarget t;
  t.host = "::1";
  t.port = 8000;
  t.path = "/hooks/sg";
  t.secret = "0123456789abcdef";
  lifecycle::WebhookHook hook(io, t, 1000ms);
  const std::string req = hook.request("{\"a\":1}", 1700000000);
  EXPECT_TRUE(req.starts_with("POST /hooks/sg HTTP/1.1\r\nHost: [::1]:8000\r\n")) << req;
  EXPECT_NE(req.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_NE(req.find("X-Sessiongate-Signature: " +
                     lifecycle::sign_body(t.secret, 1700000000, "{\"a\":1}") + "\r\n"),
            std::string::npos);
  EXPECT_TRUE(req.ends_with("\r\n\r\n{\"a\":1}"));
}

TEST(WakeCommand, PlaceholdersAreFilledIn) {
  lifecycle::HookCall c{"start", "t1", "c1", "request", "r9"};
  auto argv = lifecycle::CommandHook::expand(
      {"/bin/start", "{container}", "--session={session}", "{action}{action}", "{request_id}"}, c);
  EXPECT_EQ(argv,
            (std::vector<std::string>{"/bin/start", "c1", "--session=t1", "startstart", "r9"}));
  EXPECT_EQ(lifecycle::hook_body(c),
            "{\"action\":\"start\",\"session\":\"t1\",\"container\":\"c1\",\"reason\":\"request\","
            "\"request_id\":\"r9\"}");
}

TEST(WakeGate, CapsPerSessionTotalAndBytes) {
  proxy::WakeGate g({30000ms, 2000ms, 2, 3, 1000}, [](auto&, auto&, auto&) {});
  using E = proxy::WakeGate::Entry;
  EXPECT_EQ(g.enter("a", 100), E::kHeld);
  EXPECT_EQ(g.enter("a", 100), E::kHeld);
  EXPECT_EQ(g.enter("a", 100), E::kSessionFull);
  EXPECT_EQ(g.enter("b", 900), E::kFull) << "bytes";
  EXPECT_EQ(g.enter("b", 100), E::kHeld);
  EXPECT_EQ(g.enter("c", 1), E::kFull) << "total";
  g.leave("a", 100);
  EXPECT_EQ(g.held(), 2u);
  EXPECT_EQ(g.enter("c", 1), E::kHeld);
}

TEST(WakeHolds, AReadyRouteReleasesABatchAndEachDoneRequestTheNext) {
  boost::asio::io_context io;
  proxy::Holds holds;
  std::vector<std::unique_ptr<proxy::HeldRequest>> held;
  for (int i = 0; i < 40; ++i) {
    held.push_back(std::make_unique<proxy::HeldRequest>(io));
    holds.add("s", held.back().get());
  }
  auto released = [&] {
    size_t n = 0;
    for (const auto& h : held) n += h->released;
    return n;
  };
  registry::Route route;
  route.session_id = "s";
  route.has_container = true;
  route.status = registry::ContainerStatus::kStarting;
  route.lease_deadline = registry::now_ms() + 60000;
  holds.notify("s", &route);
  EXPECT_EQ(released(), 0u) << "a route that is not ready releases nothing";
  route.status = registry::ContainerStatus::kReady;
  holds.notify("s", &route);
  EXPECT_EQ(released(), proxy::Holds::kReleaseAtOnce);
  holds.notify("s", &route);
  EXPECT_EQ(released(), proxy::Holds::kReleaseAtOnce) << "a second change adds no more";
  holds.release_next("s");
  EXPECT_EQ(released(), proxy::Holds::kReleaseAtOnce + 1);
  EXPECT_TRUE(held[proxy::Holds::kReleaseAtOnce]->released) << "in arrival order";
  holds.fail("s", "error");
  for (const auto& h : held) EXPECT_EQ(h->signal, proxy::HeldRequest::Signal::kFailed);
  EXPECT_EQ(holds.size(), 40u);
  for (const auto& h : held) holds.remove("s", h.get());
  EXPECT_EQ(holds.size(), 0u);
}

bool parse(const std::string& text, app::Config& cfg, std::string& first_error) {
  std::vector<app::ConfigError> errors;
  const bool ok = app::parse_config(text, "test.yaml", cfg, errors);
  first_error = errors.empty() ? "" : errors[0].message;
  return ok;
}

constexpr const char* kBase = "listeners: [{address: 127.0.0.1:8080}]\n";

TEST(WakeConfig, WebhookAndDefaults) {
  ::setenv("SG_UNIT_WAKE_SECRET", "0123456789abcdef0123", 1);
  app::Config cfg;
  std::string err;
  ASSERT_TRUE(parse(std::string(kBase) +
                        "wake:\n  webhook: {url: \"http://orchestrator.internal:8000/hooks/sg\", "
                        "secret_env: SG_UNIT_WAKE_SECRET, timeout: 2s}\n"
                        "sessions: {sleep_after: 15m}\n",
                    cfg, err))
      << err;
  const auto& w = cfg.wake;
  EXPECT_TRUE(w.enabled);
  EXPECT_EQ(w.webhook.host, "orchestrator.internal");
  EXPECT_EQ(w.webhook.port, 8000);
  EXPECT_EQ(w.webhook.path, "/hooks/sg");
  EXPECT_EQ(w.webhook.secret, "0123456789abcdef0123");
  EXPECT_EQ(w.timeout, 2000ms);
  EXPECT_EQ(w.hold_timeout, 30000ms);
  EXPECT_EQ(w.max_held_per_session, 256u);
  EXPECT_EQ(w.max_held, 10000u);
  EXPECT_EQ(w.sleep_after, std::chrono::milliseconds(15 * 60000));
  ASSERT_TRUE(parse(std::string(kBase) + "wake: {command: [/usr/bin/start, \"{session}\"], "
                                         "retries: 0, max_held: 5}\n",
                    cfg, err))
      << err;
  EXPECT_EQ(cfg.wake.command, (std::vector<std::string>{"/usr/bin/start", "{session}"}));
  EXPECT_EQ(cfg.wake.retries, 0);
  EXPECT_EQ(cfg.wake.max_held, 5u);
  EXPECT_FALSE(cfg.wake.uses_webhook());
}

TEST(WakeConfig, ErrorsSayWhatIsWrong) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"wake: {hold_timeout: 5s}", "wake needs a webhook or a command"},
      {"wake: {command: [start]}", "the program must be an absolute path"},
      {"wake: {command: [/a], webhook: {url: \"http://h:1/\"}}", "not both"},
      {"wake: {webhook: {url: \"https://h/\"}}", "https webhooks are not supported yet"},
      {"wake: {webhook: {url: \"ftp://h/\"}}", "must start with http://"},
      {"wake: {webhook: {url: \"http://h:99999/\"}}", "port from 1 to 65535"},
      {"wake: {webhook: {url: \"http://h/\", secret_env: SG_UNIT_NOT_SET_ANYWHERE}}", "is not set"},
      {"wake: {command: [/a], max_held: 0}", "wake.max_held must be a whole number"},
      {"wake: {command: [/a], colour: blue}", "colour"},
      {"sessions: {sleep_after: 15m}", "sessions.sleep_after needs wake"},
      {"sessions: {sleep_after: 10ms}\nwake: {command: [/a]}", "at least 1s"},
  };
  for (const Case& c : cases) {
    app::Config cfg;
    std::string err;
    EXPECT_FALSE(parse(std::string(kBase) + c.yaml + "\n", cfg, err)) << c.yaml;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.yaml << " -> " << err;
  }
}

}  // namespace
}  // namespace sg
