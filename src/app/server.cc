#include "app/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "proxy/worker.h"

namespace sg::app {

namespace asio = boost::asio;

int serve(const Config& config) {
  auto rt = std::make_shared<proxy::Runtime>(proxy::Runtime{
      proxy::Settings{config.limits, config.timeouts}, routing::RuleTable(config.rules), {}});
  for (const auto& l : config.listeners) rt->listeners.push_back(l.endpoint);

  int n = config.workers > 0 ? config.workers
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<proxy::Worker>> workers;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<proxy::Worker>(rt);
    std::string error;
    if (!w->listen(error)) {
      std::cerr << "sessiongate: " << error << "\n";
      return 1;
    }
    workers.push_back(std::move(w));
  }

  asio::io_context main_io{1};
  asio::signal_set signals(main_io, SIGTERM, SIGINT);
  for (auto& w : workers) w->start();
  std::cerr << "sessiongate: serving on";
  for (const auto& l : config.listeners) std::cerr << " http://" << l.text;
  std::cerr << " with " << n << " worker" << (n == 1 ? "" : "s") << "\n";

  asio::steady_timer poll(main_io);
  auto deadline = std::chrono::steady_clock::now();
  std::function<void()> wait_drained = [&] {
    size_t open = 0;
    for (auto& w : workers) open += w->connections();
    if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (open > 0) std::cerr << "sessiongate: drain time over, closing " << open << " connections\n";
      for (auto& w : workers) w->stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](const boost::system::error_code&) { wait_drained(); });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::cerr << "sessiongate: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
              << ", draining (up to " << config.timeouts.shutdown_drain.count() << " ms)\n";
    deadline = std::chrono::steady_clock::now() + config.timeouts.shutdown_drain;
    for (auto& w : workers) w->begin_drain();
    wait_drained();
  });
  main_io.run();
  for (auto& w : workers) w->join();
  std::cerr << "sessiongate: stopped\n";
  return 0;
}

}  // namespace sg::app
