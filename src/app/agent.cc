#include "app/agent.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>

#include "app/admin_client.h"
#include "common/duration.h"
#include "net/address.h"

namespace sg::app {

namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

void say(const std::string& line) {
  std::cerr << "sessiongate agent: " << line << std::endl;
}

// The address containers are reached at, as the router sees it: the local address of the
// route towards the admin API (a connected UDP socket sends nothing), with the dev server's
// port. Inside a task or pod that is its own IP; override with --address behind NAT.
std::string find_address(const std::string& admin_url, int port, std::string& why) {
  boost::asio::ip::tcp::endpoint admin;
  std::string_view hostport = std::string_view(admin_url).substr(admin_url.find("//") + 2);
  if (!hostport.empty() && hostport.back() == '/') hostport.remove_suffix(1);
  if (!net::parse_endpoint(hostport, admin)) {
    why = "admin URL must be http://IP:PORT (got '" + admin_url + "')";
    return {};
  }
  const int fd = ::socket(admin.protocol().family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  const bool ok = fd >= 0 &&
                  ::connect(fd, admin.data(), static_cast<socklen_t>(admin.size())) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) {
    why = "cannot tell this container's address (no route to the admin API): give --address";
    return {};
  }
  boost::asio::ip::tcp::endpoint ep;
  ep.resize(len);
  std::memcpy(ep.data(), &local, len);
  ep.port(static_cast<unsigned short>(port));
  return net::format_endpoint(ep);
}

struct Agent {
  AgentOptions o;
  AdminTarget admin;
  int64_t lease_ms = 0, ready_timeout_ms = 0, stop_timeout_ms = 0;
  std::string address;
  pid_t child = -1;
  int child_status = 0;  // its wait status, once it ended
  bool child_ended = false;
  bool stop_requested = false;
  sigset_t signals{};

  // Sleeps up to `ms`, waking for a stop signal or the dev server's end.
  void pause(int64_t ms) {
    const timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
    const int sig = ::sigtimedwait(&signals, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      if (!stop_requested) say(std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": stopping");
      stop_requested = true;
    }
    reap();
  }
  void reap() {
    if (child < 0 || child_ended) return;
    int st = 0;
    if (::waitpid(child, &st, WNOHANG) == child) {
      child_ended = true;
      child_status = st;
    }
  }
  bool done() const { return stop_requested || child_ended; }

  AdminReply put_container(std::string_view status) {
    json::object body{{"address", address}, {"status", status}, {"lease_ttl", lease_ms}};
    return admin_call(admin, "PUT", "/v1/containers/" + o.container, json::serialize(body));
  }
  static std::string message_of(const AdminReply& r) {
    if (r.status == 0) return r.error;
    json::error_code ec;
    json::value v = json::parse(r.body, ec);
    const json::object* obj = ec ? nullptr : v.if_object();
    const json::value* m = obj ? obj->if_contains("message") : nullptr;
    return std::to_string(r.status) + " " +
           (m && m->is_string() ? std::string(m->as_string()) : r.body);
  }
  // Retries what may pass (no answer, 5xx, 429) until it does or the agent stops; -1 when
  // it stopped first, else the final status.
  int until_answered(const std::function<AdminReply()>& call, const std::string& what) {
    int64_t backoff = 500;
    for (;;) {
      AdminReply r = call();
      if (r.status != 0 && r.status < 500 && r.status != 429) {
        if (r.status >= 300) say(what + " refused: " + message_of(r));
        return r.status;
      }
      say(what + " failed (" + message_of(r) + "); again in " + format_duration_ms(backoff));
      pause(backoff);
      if (done()) return -1;
      backoff = std::min<int64_t>(backoff * 2, 5000);
    }
  }
  bool registered_as(std::string_view status) {
    const int st = until_answered([&] { return put_container(status); },
                                  "registering as " + std::string(status));
    if (st == 200 || st == 201) say(o.container + " at " + address + ": " + std::string(status));
    return st == 200 || st == 201;
  }
  bool dev_server_answers() {
    AdminTarget probe{"http://" + o.ready_host + ":" + std::to_string(o.port), "", 2000,
                      "the dev server"};
    AdminReply r = admin_call(probe, "GET", o.ready_path);
    return r.status != 0 && r.status < 500;  // it speaks HTTP: up, whatever the page says
  }
  // Renews the lease; a router that no longer knows the container gets it registered again.
  void heartbeat(std::string_view status) {
    AdminReply r = admin_call(admin, "POST", "/v1/containers/" + o.container + "/heartbeat");
    if (r.status == 404) {
      say("the router does not know " + o.container +
          " (deleted, or its store was reset): "
          "registering again");
      registered_as(status);
    } else if (r.status != 200) {
      say("heartbeat failed (" + message_of(r) + "); the lease allows a few more tries");
    }
  }

  int run();
  bool start_child();
  bool point_session();
  int wait_ready();
  void end_child();
  int exit_code() const;
  int stop();
};

bool Agent::start_child() {
  if (o.command.empty()) return true;
  child = ::fork();
  if (child < 0) {
    say(std::string("cannot start the dev server: ") + std::strerror(errno));
    return false;
  }
  if (child == 0) {
    ::sigprocmask(SIG_UNBLOCK, &signals, nullptr);
    std::vector<char*> argv;
    for (auto& a : o.command) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::cerr << "sessiongate agent: cannot run " << o.command[0] << ": " << std::strerror(errno)
              << std::endl;
    ::_exit(127);
  }
  say("started the dev server: " + o.command[0] + " (pid " + std::to_string(child) + ")");
  return true;
}

bool Agent::point_session() {
  if (o.session.empty()) return true;
  const std::string body = json::serialize(json::object{{"container_id", o.container}});
  const int st =
      until_answered([&] { return admin_call(admin, "PUT", "/v1/sessions/" + o.session, body); },
                     "pointing session " + o.session);
  if (st == 200 || st == 201) say("session " + o.session + " points at " + o.container);
  return st == 200 || st == 201;
}

// Heartbeats as `starting` until the dev server answers; 0 when it does.
int Agent::wait_ready() {
  const auto deadline = Clock::now() + std::chrono::milliseconds(ready_timeout_ms);
  auto next_beat = Clock::now() + std::chrono::milliseconds(lease_ms / 3);
  while (!done()) {
    if (dev_server_answers()) return 0;
    if (Clock::now() >= deadline) {
      say("the dev server did not answer on " + o.ready_host + ":" + std::to_string(o.port) +
          o.ready_path + " within " + o.ready_timeout + ": marking " + o.container + " failed");
      put_container("failed");
      return 1;
    }
    if (Clock::now() >= next_beat) {
      heartbeat("starting");
      next_beat = Clock::now() + std::chrono::milliseconds(lease_ms / 3);
    }
    pause(250);
  }
  return 0;
}

// SIGTERM to the dev server the agent started, SIGKILL after stop_timeout.
void Agent::end_child() {
  if (child < 0 || child_ended) return;
  ::kill(child, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::milliseconds(stop_timeout_ms);
  while (!child_ended && Clock::now() < deadline) pause(100);
  if (!child_ended) {
    say("the dev server did not stop within " + o.stop_timeout + ": SIGKILL");
    ::kill(child, SIGKILL);
    ::waitpid(child, &child_status, 0);
    child_ended = true;
  }
}

// 0 when asked to stop; the dev server's own status when it ended first.
int Agent::exit_code() const {
  if (stop_requested || child < 0) return 0;
  if (WIFEXITED(child_status)) return WEXITSTATUS(child_status);
  return 128 + (WIFSIGNALED(child_status) ? WTERMSIG(child_status) : 0);
}

// The way out: draining, the dev server stopped (if the agent started it), stopped.
int Agent::stop() {
  if (!child_ended) put_container("draining");
  end_child();
  const bool clean = stop_requested || (WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0);
  put_container(clean ? "stopped" : "failed");
  say(o.container + " marked " + (clean ? "stopped" : "failed"));
  return exit_code();
}

int Agent::run() {
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  if (!start_child()) return 1;
  if (!registered_as("starting")) {  // refused (4xx), or stopped while the router was away
    const bool refused = !done();
    end_child();
    return refused ? 4 : exit_code();
  }
  if (!point_session()) {
    const bool refused = !done();
    const int rc = stop();
    return refused ? 4 : rc;
  }
  if (wait_ready() != 0) {  // marked failed: the platform replaces the container
    stop_requested = true;
    end_child();
    return 1;
  }
  if (!done()) registered_as("ready");
  while (!done()) {
    pause(lease_ms / 3);
    if (!done()) heartbeat("ready");
  }
  return stop();
}

bool duration_option(const std::string& text, const char* name, int64_t min, int64_t& out) {
  std::string why = "must be at least " + format_duration_ms(min);
  if (!parse_duration_ms(text, out, &why) || out < min) {
    std::cerr << "sessiongate agent: " << name << " '" << text << "': " << why << "\n";
    return false;
  }
  return true;
}

std::string env_or(const char* name, const std::string& given) {
  const char* v = std::getenv(name);
  return !given.empty() || !v ? given : std::string(v);
}

}  // namespace

void add_agent_command(CLI::App& app, std::function<int()>& run) {
  auto o = std::make_shared<AgentOptions>();
  auto* cmd = app.add_subcommand(
      "agent", "Register this container, wait for its dev server, heartbeat, deregister on exit");
  cmd->add_option("--container", o->container, "Container id (or $SESSIONGATE_CONTAINER)");
  cmd->add_option("--port", o->port, "The dev server's port (or $SESSIONGATE_PORT)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--session", o->session,
                  "Point this session at the container (or $SESSIONGATE_SESSION)");
  cmd->add_option("--address", o->address,
                  "IP:PORT the router reaches the dev server at (default: this host's address "
                  "towards the admin API, with --port; or $SESSIONGATE_ADDRESS)");
  cmd->add_option("--admin", o->admin,
                  "Admin API URL (default $SESSIONGATE_ADMIN or http://127.0.0.1:9901)");
  cmd->add_option("--ready-path", o->ready_path, "Path the readiness probe asks (default /)");
  cmd->add_option("--ready-host", o->ready_host,
                  "Where the probe asks the dev server (default 127.0.0.1)");
  cmd->add_option("--lease", o->lease, "Lease (heartbeats every third of it), default 30s");
  cmd->add_option("--ready-timeout", o->ready_timeout,
                  "Longest wait for the dev server, default 120s");
  cmd->add_option("--stop-timeout", o->stop_timeout,
                  "Grace for the dev server on stop, default 10s");
  cmd->add_option("command", o->command, "The dev server to start and watch (after --)");
  cmd->callback([o, &run] {
    run = [o]() -> int {
      Agent a;
      a.o = *o;
      a.o.container = env_or("SESSIONGATE_CONTAINER", o->container);
      a.o.session = env_or("SESSIONGATE_SESSION", o->session);
      a.o.address = env_or("SESSIONGATE_ADDRESS", o->address);
      if (a.o.port == 0) a.o.port = std::atoi(env_or("SESSIONGATE_PORT", "").c_str());
      a.admin.url = env_or("SESSIONGATE_ADMIN", o->admin);
      if (a.admin.url.empty()) a.admin.url = "http://127.0.0.1:9901";
      a.admin.token = env_or("SESSIONGATE_TOKEN", "");
      if (a.o.container.empty() || a.o.port < 1 || a.o.port > 65535) {
        std::cerr << "sessiongate agent: --container and --port (1-65535) are required\n";
        return 2;
      }
      if (!duration_option(a.o.lease, "--lease", 3000, a.lease_ms) ||
          !duration_option(a.o.ready_timeout, "--ready-timeout", 1, a.ready_timeout_ms) ||
          !duration_option(a.o.stop_timeout, "--stop-timeout", 1, a.stop_timeout_ms)) {
        return 2;
      }
      std::string why;
      a.address = a.o.address.empty() ? find_address(a.admin.url, a.o.port, why) : a.o.address;
      boost::asio::ip::tcp::endpoint check;
      if (!a.address.empty()) why = net::endpoint_problem(a.address, check);
      if (!why.empty()) {
        std::cerr << "sessiongate agent: address: " << why << "\n";
        return 2;
      }
      return a.run();
    };
  });
}

}  // namespace sg::app
