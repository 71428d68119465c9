// Route-table cost at scale: lookup and update with 1,000,000 sessions, and resident memory
// per session (Route + one map node, as a worker holds it).
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <string>

#include "net/address.h"
#include "registry/route.h"

namespace {

using sg::registry::Route;
using sg::registry::RoutePtr;
using sg::registry::RouteTable;

std::string session_id(size_t i) {
  return "thread-" + std::to_string(i * 2654435761u % 1000000007u);
}

RoutePtr make_route(size_t i) {
  auto r = std::make_shared<Route>();
  r->session_id = session_id(i);
  r->container_id = "ctr-" + std::to_string(i);
  r->has_container = true;
  r->status = sg::registry::ContainerStatus::kReady;
  sg::net::parse_endpoint("10.0.0.1:4321", r->address);
  r->address_text = "10.0.0.1:4321";
  r->generation = 1;
  return r;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

struct Fixture {
  RouteTable table;
  std::vector<std::string> ids;
  double bytes_per_session = 0;
  explicit Fixture(size_t n) {
    ids.reserve(n);
    for (size_t i = 0; i < n; ++i) ids.push_back(session_id(i));
    long before = rss_kib();
    std::vector<RoutePtr> routes;
    routes.reserve(n);
    for (size_t i = 0; i < n; ++i) routes.push_back(make_route(i));
    table.replace_all(routes);
    routes.clear();
    routes.shrink_to_fit();
    bytes_per_session = static_cast<double>(rss_kib() - before) * 1024.0 / static_cast<double>(n);
  }
};

Fixture& fixture() {
  static Fixture f(1000000);
  return f;
}

void BM_Lookup(benchmark::State& state) {
  Fixture& f = fixture();
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<size_t> pick(0, f.ids.size() - 1);
  size_t hits = 0;
  for (auto _ : state) {
    const Route* r = f.table.find(f.ids[pick(rng)]);
    hits += r != nullptr;
    benchmark::DoNotOptimize(r);
  }
  state.counters["sessions"] = static_cast<double>(f.table.size());
  state.counters["resident_bytes_per_session"] = f.bytes_per_session;
  if (hits != static_cast<size_t>(state.iterations())) state.SkipWithError("missing routes");
}
BENCHMARK(BM_Lookup);

void BM_Update(benchmark::State& state) {
  Fixture& f = fixture();
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<size_t> pick(0, f.ids.size() - 1);
  for (auto _ : state) {
    size_t i = pick(rng);
    RoutePtr r = make_route(i);  // same id as the one it replaces
    std::string_view key = r->session_id;
    benchmark::DoNotOptimize(f.table.set(key, std::move(r)));
  }
  state.counters["sessions"] = static_cast<double>(f.table.size());
}
BENCHMARK(BM_Update);

}  // namespace

BENCHMARK_MAIN();
