// The exchange's phases driven through an in-memory Downstream (no client socket): what each
// phase answers, what reaches the upstream (a real listener on loopback in this process), and
// the one retry a dead pooled connection allows.
#include "proxy/exchange.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <mutex>
#include <thread>

#include "common/await.h"
#include "http/parser.h"
#include "proxy/client_limits.h"
#include "proxy/worker.h"

namespace sg::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A client the test controls: a request given as text, and everything the exchange answers.
class FakeDownstream final : public Downstream {
 public:
  FakeDownstream(asio::io_context& io, const std::string& request, std::string_view body = {})
      : dog_(io.get_executor()), raw_(request + "\r\n") {
    peer_.set(asio::ip::make_address("192.0.2.7"));
    http::ParseResult r = http::parse_request(raw_, {}, req_);
    EXPECT_EQ(r.state, http::ParseState::kComplete) << request;
    auto [p, n] = body_.prepare(body.size() + 1, body.size() + 1);
    std::copy(body.begin(), body.end(), p);
    body_.commit(body.size());
  }

  const http::RequestHead& request() const override { return req_; }
  const Peer& peer() const override { return peer_; }
  RequestRecord& record() override { return rec_; }
  net::Watchdog& watchdog() override { return dog_; }
  void watch_upstream(net::Stream* upstream) override { dog_.watch(upstream); }
  bool wants_html() const override { return false; }
  Buffer& body() override { return body_; }
  asio::awaitable<bool> read_body() override { co_return false; }  // all of it is there
  asio::awaitable<void> send_reply(const Reply& r) override {
    replies.push_back(r);
    co_return;
  }
  asio::awaitable<bool> send_continue() override { co_return true; }
  asio::awaitable<bool> send_interim(const http::ResponseHead&) override { co_return true; }
  void begin_response(const http::ResponseHead& res, std::string_view) override {
    response_status = res.status;
  }
  Write write_body(std::string_view data, bool last) override {
    response_body.append(data);
    ended = last;
    return Write::kDone;
  }
  asio::awaitable<bool> flush() override { co_return true; }
  bool response_started() const override { return response_status != 0; }
  void start_tunnel(net::Stream, registry::RoutePtr, TunnelInfo) override {}

  std::vector<Reply> replies;
  int response_status = 0;
  std::string response_body;
  bool ended = false;

 private:
  Peer peer_;
  net::Watchdog dog_;
  std::string raw_;
  http::RequestHead req_;
  Buffer body_;
  RequestRecord rec_;
};

// An upstream on loopback, on its own thread and event loop: answers per `script`, and
// remembers the request lines it received.
class LoopbackUpstream {
 public:
  // For each accepted connection, in order: true = answer 200 "ok" to every request, false =
  // read one request and close without a byte.
  explicit LoopbackUpstream(std::vector<bool> script)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(script)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackUpstream() {
    io_.stop();
    thread_.join();
  }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
  std::vector<std::string> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  size_t connections() {
    std::lock_guard l(mu_);
    return connections_;
  }
  // A connection to this upstream as the pool would hold it, and the upstream's side of it.
  net::Stream pooled_connection(asio::io_context& client_io) {
    tcp::socket s(client_io);
    s.connect(endpoint());
    for (int i = 0; i < 500 && connections() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return net::Stream(std::move(s));
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      bool answer = true;
      {
        std::lock_guard l(mu_);
        answer = connections_ < script_.size() ? script_[connections_] : true;
        ++connections_;
      }
      asio::co_spawn(io_, serve(std::move(s), answer), asio::detached);
      accept();
    });
  }
  asio::awaitable<void> serve(tcp::socket s, bool answer) {
    asio::streambuf buf;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(s, buf, "\r\n\r\n", kUse);
      if (ec) co_return;
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      buf.consume(n);
      {
        std::lock_guard l(mu_);
        requests_.push_back(head.substr(0, head.find("\r\n")));
      }
      if (const size_t cl = head.find("Content-Length: "); cl != std::string::npos) {
        const size_t len = std::stoul(head.substr(cl + 16));
        if (buf.size() < len) {
          auto [rec, got] =
              co_await asio::async_read(s, buf, asio::transfer_exactly(len - buf.size()), kUse);
          if (rec) co_return;
        }
        buf.consume(len);
      }
      if (!answer) co_return;  // closes: the request got no answer
      auto [wec, w] = co_await asio::async_write(
          s, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
          kUse);
      if (wec) co_return;
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<bool> script_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  size_t connections_ = 0;
  std::thread thread_;
};

routing::Rule upstream_rule(const tcp::endpoint& ep) {
  routing::Rule r;
  r.priority = 1;
  r.name = "up";
  r.action.type = routing::ActionType::kUpstream;
  r.action.address = ep;
  r.action.address_text = ep.address().to_string() + ":" + std::to_string(ep.port());
  return r;
}

routing::Rule session_rule() {
  routing::Rule r;
  r.priority = 2;
  r.name = "sessions";
  r.host = "*.preview.test";
  r.action.type = routing::ActionType::kSession;
  r.action.from = routing::SessionFrom::kHost;
  return r;
}

class ExchangePhases : public ::testing::Test {
 protected:
  void start(std::vector<routing::Rule> rules, double rate = 0) {
    auto rt = std::make_shared<Runtime>();
    rt->rules = routing::RuleTable(std::move(rules));
    if (rate > 0) {
      limits_ = std::make_unique<ClientLimits>(0, rate, rate);
      rt->client_limits = limits_.get();
    }
    worker_ = std::make_unique<Worker>(rt);
  }
  // Runs one exchange to its end on the worker's loop (which nothing else uses here).
  bool run(FakeDownstream& down) {
    Exchange ex(*worker_);
    bool clean = false;
    bool done = false;
    asio::co_spawn(
        worker_->io(),
        [&]() -> asio::awaitable<void> {
          clean = co_await ex.run(down);
          done = true;
        },
        asio::detached);
    worker_->io().restart();
    while (!done && worker_->io().run_one_for(std::chrono::seconds(5)) > 0) {
    }
    EXPECT_TRUE(done) << "the exchange did not finish";
    return clean;
  }
  void add_route(const std::string& id, registry::ContainerStatus status, bool container) {
    auto r = std::make_shared<registry::Route>();
    r->session_id = id;
    r->container_id = "c-" + id;
    r->has_container = container;
    r->status = status;
    r->address = {asio::ip::make_address("10.0.0.9"), 4321};
    r->lease_deadline = registry::now_ms() + 60000;
    routes_.push_back(r);
    worker_->load_routes(routes_);
  }

  std::unique_ptr<ClientLimits> limits_;
  std::unique_ptr<Worker> worker_;
  std::vector<registry::RoutePtr> routes_;
};

TEST_F(ExchangePhases, ARateLimitedRequestGetsThe429ReplyAndNothingIsSentUpstream) {
  LoopbackUpstream up({true});
  start({upstream_rule(up.endpoint())}, 1);  // one request per second, a burst of one
  FakeDownstream first(worker_->io(), "GET /a HTTP/1.1\r\nHost: app.test\r\n");
  EXPECT_TRUE(run(first));
  EXPECT_EQ(first.response_status, 200);
  EXPECT_EQ(first.response_body, "ok");
  FakeDownstream second(worker_->io(), "GET /b HTTP/1.1\r\nHost: app.test\r\n");
  EXPECT_TRUE(run(second));
  ASSERT_EQ(second.replies.size(), 1u);
  EXPECT_EQ(second.replies[0].status, 429);
  EXPECT_EQ(second.replies[0].outcome, observe::Outcome::k_rate_limited);
  EXPECT_EQ(second.response_status, 0);
  EXPECT_EQ(up.requests(), (std::vector<std::string>{"GET /a HTTP/1.1"}));
}

TEST_F(ExchangePhases, APooledConnectionThatDiedBeforeAnyByteIsRetriedOnceForAGet) {
  LoopbackUpstream up({false, true});  // the pooled connection dies after reading a request
  start({upstream_rule(up.endpoint())});
  worker_->pool().put({up.endpoint(), 0}, up.pooled_connection(worker_->io()));
  FakeDownstream get(worker_->io(), "GET /x HTTP/1.1\r\nHost: app.test\r\n");
  EXPECT_TRUE(run(get));
  EXPECT_EQ(get.response_status, 200);
  EXPECT_EQ(up.requests(), (std::vector<std::string>{"GET /x HTTP/1.1", "GET /x HTTP/1.1"}));
  EXPECT_EQ(worker_->metrics().upstream_retries.get(), 1u);
}

TEST_F(ExchangePhases, APooledConnectionThatDiedIsNeverRetriedForAPost) {
  LoopbackUpstream up({false, true});
  start({upstream_rule(up.endpoint())});
  worker_->pool().put({up.endpoint(), 0}, up.pooled_connection(worker_->io()));
  FakeDownstream post(worker_->io(),
                      "POST /pay HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\n", "once");
  EXPECT_FALSE(run(post));
  ASSERT_EQ(post.replies.size(), 1u);
  EXPECT_EQ(post.replies[0].status, 502);
  EXPECT_EQ(up.requests(), (std::vector<std::string>{"POST /pay HTTP/1.1"}));
  EXPECT_EQ(worker_->metrics().upstream_retries.get(), 0u);
}

TEST_F(ExchangePhases, PlanningAnswersEachRouteStateWithItsReply) {
  start({session_rule()});
  add_route("ready", registry::ContainerStatus::kReady, true);
  add_route("waiting", registry::ContainerStatus::kStarting, false);
  add_route("stopped", registry::ContainerStatus::kStopped, true);
  struct Case {
    const char* host;
    int status;
    observe::Outcome outcome;
  };
  const Case cases[] = {
      {"nosuch.preview.test", 404, observe::Outcome::k_unknown_session},
      {"waiting.preview.test", 503, observe::Outcome::k_starting},
      {"stopped.preview.test", 503, observe::Outcome::k_unavailable},
      {"elsewhere.test", 404, observe::Outcome::k_no_rule},
  };
  for (const Case& c : cases) {
    FakeDownstream down(worker_->io(), std::string("GET / HTTP/1.1\r\nHost: ") + c.host + "\r\n");
    EXPECT_TRUE(run(down)) << c.host;
    ASSERT_EQ(down.replies.size(), 1u) << c.host;
    EXPECT_EQ(down.replies[0].status, c.status) << c.host;
    EXPECT_EQ(down.replies[0].outcome, c.outcome) << c.host;
  }
  // A ready route plans a forward to its container, with nothing answered.
  FakeDownstream ready(worker_->io(), "GET /p?q=1 HTTP/1.1\r\nHost: ready.preview.test\r\n");
  Exchange ex(*worker_);
  UpstreamTarget t;
  EXPECT_EQ(ex.plan_for(ready, t), Exchange::Plan::kForward);
  EXPECT_EQ(t.address.port(), 4321);
  EXPECT_EQ(t.target, "/p?q=1");
  EXPECT_TRUE(t.from_registry);
  ASSERT_TRUE(ex.route());
  EXPECT_EQ(ex.route()->session_id, "ready");
}

TEST_F(ExchangePhases, ADeclaredBodyOverTheLimitIsRefusedBeforeRouting) {
  auto rt = std::make_shared<Runtime>();
  rt->rules = routing::RuleTable({session_rule()});
  rt->settings.limits.body_bytes = 10;
  worker_ = std::make_unique<Worker>(rt);
  FakeDownstream big(worker_->io(),
                     "POST / HTTP/1.1\r\nHost: nosuch.preview.test\r\nContent-Length: 11\r\n");
  EXPECT_TRUE(run(big));
  ASSERT_EQ(big.replies.size(), 1u);
  EXPECT_EQ(big.replies[0].status, 413);
  EXPECT_TRUE(big.replies[0].close);
}

}  // namespace
}  // namespace sg::proxy
