// The dashboard's request handling (login forms, cookies, snapshot and stream queries) on a
// real store with sessions in it: every input gets a valid status; JSON answers are JSON; a
// snapshot never shows more rows than its page size.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "admin/dashboard/dashboard.h"
#include "admin_fuzz_input.h"

namespace {

struct Env {
  sg::fuzz::TempRegistry tmp{"sg-fuzz-dashboard"};
  boost::asio::io_context io;
  sg::admin::Dashboard dashboard{io, deps()};
  std::string cookie;

  sg::admin::DashboardDeps deps() {
    sg::admin::DashboardDeps d;
    d.token = "fuzz-token-123";
    d.registry = &tmp.registry;
    return d;
  }
  Env() {
    sg::registry::Container c;
    c.id = "c1";
    c.address_text = "127.0.0.1:9";
    c.status = sg::registry::ContainerStatus::kReady;
    tmp.store.put_container(c);
    for (int i = 0; i < 60; ++i) {
      sg::registry::Session s;
      s.id = "s" + std::to_string(i);
      s.container_id = i % 3 ? "c1" : "c2";
      tmp.store.put_session(s);
    }
    sg::registry::StoreError e;
    tmp.registry.load(e);
    sg::admin::Request login;
    login.method = "POST";
    login.path = "/dashboard/login";
    login.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    login.body = "token=fuzz-token-123";
    auto r = dashboard.handle(login);
    for (const auto& [k, v] : r->headers) {
      if (k == "Set-Cookie") cookie = v.substr(0, v.find(';'));
    }
    if (cookie.empty()) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env env;
  if (size < 1) return 0;
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  sg::admin::Request req = sg::fuzz::admin_request(data, size, kMethods);
  if (data[0] & 4) req.headers.emplace_back("cookie", env.cookie);
  if (data[0] & 8) req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  if (data[0] & 16) req.headers.emplace_back("origin", req.body.substr(0, 40));
  if (data[0] & 32) req.headers.emplace_back("x-sessiongate-dashboard", "1");
  env.dashboard.cookie_auth(req);
  auto res = env.dashboard.handle(req);
  if (!res) return 0;  // not a dashboard path: the API's
  if (res->status < 200 || res->status > 599) std::abort();
  if (res->events) {
    for (int i = 0; i < 2; ++i) {
      auto ev = res->events->next();
      if (ev && ev->starts_with("data: ")) {
        boost::json::error_code ec;
        boost::json::parse(std::string_view(*ev).substr(6), ec);
        if (ec) std::abort();
      }
    }
    if (res->events->ended) res->events->ended();
    return 0;
  }
  if (res->content_type == "application/json") {
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(res->body, ec);
    if (ec) std::abort();
    if (res->status == 200 && v.is_object() && v.as_object().contains("sessions")) {
      const auto& s = v.at("sessions").as_object();
      if (s.at("rows").as_array().size() > s.at("size").to_number<uint64_t>()) std::abort();
    }
  }
  return 0;
}
