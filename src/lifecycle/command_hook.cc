#include "lifecycle/command_hook.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <memory>

extern char** environ;

namespace sg::lifecycle {

namespace {

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != s.npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

struct Child {
  Child(boost::asio::io_context& io, pid_t p, int fd) : pid(p), watch(io, fd), timer(io) {}
  pid_t pid;
  boost::asio::posix::stream_descriptor watch;
  boost::asio::steady_timer timer;
  bool killed = false;
};

}  // namespace

std::vector<std::string> CommandHook::expand(const std::vector<std::string>& argv,
                                             const HookCall& c) {
  std::vector<std::string> out = argv;
  for (auto& a : out) {
    replace_all(a, "{action}", c.action);
    replace_all(a, "{session}", c.session);
    replace_all(a, "{container}", c.container);
    replace_all(a, "{request_id}", c.request_id);
  }
  return out;
}

void CommandHook::call(const HookCall& c, std::function<void(HookResult)> done) {
  std::vector<std::string> args = expand(argv_, c);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = {
      "SESSIONGATE_ACTION=" + c.action, "SESSIONGATE_SESSION=" + c.session,
      "SESSIONGATE_CONTAINER=" + c.container, "SESSIONGATE_REQUEST_ID=" + c.request_id};
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "SESSIONGATE_", 12) != 0) envp.push_back(*e);
  }
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  HookResult fail;
  fail.failure = "command_failed";
  fail.retryable = true;
  pid_t pid = 0;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    fail.detail = "cannot run " + args[0] + ": " + std::strerror(err);
    fail.retryable = false;
    done(fail);
    return;
  }
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    // No pidfd (a kernel older than 5.3): wait on a blocking reap would stall the loop, so
    // the child is left to finish and counted as failed.
    fail.detail = std::string("pidfd_open: ") + std::strerror(errno);
    done(fail);
    return;
  }
  auto child = std::make_shared<Child>(io_, pid, fd);
  child->timer.expires_after(timeout_);
  child->timer.async_wait([child](const boost::system::error_code& ec) {
    if (ec) return;
    child->killed = true;
    ::kill(child->pid, SIGKILL);
  });
  const std::string program = args[0];
  child->watch.async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [child, program, done = std::move(done)](const boost::system::error_code&) {
        child->timer.cancel();
        int status = 0;
        ::waitpid(child->pid, &status, 0);  // readable pidfd: the child has exited
        HookResult r;
        if (!child->killed && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
          r.ok = true;
        } else {
          r.failure = child->killed ? "timeout" : "command_failed";
          r.retryable = true;
          r.detail = program + (child->killed ? " ran past the timeout and was killed"
                                : WIFEXITED(status)
                                    ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                    : " ended by signal " + std::to_string(WTERMSIG(status)));
        }
        done(std::move(r));
      });
}

}  // namespace sg::lifecycle
