#include "app/upgrade.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace sg::app {

namespace asio = boost::asio;

namespace {

constexpr const char* kHello = "SG-UPGRADE 1";
constexpr size_t kMaxSockets = 250;  // below SCM_MAX_FD (253)

std::string error_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// The address of `path` (at most 100 bytes: config validation keeps it within sun_path).
sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof addr.sun_path - 1));
  return addr;
}

bool send_text(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

}  // namespace

// ---- the new process ----

Takeover::~Takeover() {
  for (const auto& s : sockets_) {
    if (s.fd >= 0) ::close(s.fd);
  }
  if (conn_ >= 0) ::close(conn_);
}

bool Takeover::connect(const std::string& path, std::string& error) {
  sockaddr_un addr = unix_address(path);
  if (path.size() >= sizeof addr.sun_path) {
    error = "upgrade socket path too long: " + path;
    return false;
  }
  conn_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (conn_ < 0) {
    error = error_text("socket");
    return false;
  }
  const timeval tv{10, 0};  // a running router answers at once; never wait forever
  ::setsockopt(conn_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(conn_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(conn_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "no running sessiongate answers on " + path + " (" + std::strerror(errno) + ")";
    return false;
  }
  if (!send_text(conn_, kHello)) {
    error = error_text("upgrade: send");
    return false;
  }
  char buf[16384];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSockets)];
  iovec iov{buf, sizeof buf - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(conn_, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) {
    error = n == 0 ? "the running router closed the upgrade connection (is it the same user?)"
                   : error_text("upgrade: receive");
    return false;
  }
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* p = reinterpret_cast<const int*>(CMSG_DATA(c));
      fds.insert(fds.end(), p, p + count);
    }
  }
  std::istringstream text(std::string(buf, static_cast<size_t>(n)));
  std::string word;
  size_t count = 0;
  text >> word >> count;
  bool ok = word == "SOCKETS" && count == fds.size() && !(msg.msg_flags & MSG_CTRUNC);
  for (size_t i = 0; ok && i < count; ++i) {
    PassedSocket s;
    std::string address;
    unsigned port = 0;
    ok = static_cast<bool>(text >> s.kind >> address >> port) && port <= 65535;
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    ok = ok && !ec;
    s.endpoint = {ip, static_cast<uint16_t>(port)};
    s.fd = fds[i];
    sockets_.push_back(s);
  }
  for (size_t i = sockets_.size(); i < fds.size(); ++i) ::close(fds[i]);
  if (!ok) {
    error = "the running router's answer is not one this version understands";
    return false;
  }
  return true;
}

int Takeover::take(const std::string& kind, const asio::ip::tcp::endpoint& ep) {
  for (auto& s : sockets_) {
    if (s.fd >= 0 && s.kind == kind && s.endpoint == ep) {
      const int fd = s.fd;
      s.fd = -1;
      return fd;
    }
  }
  return -1;
}

bool Takeover::holds(const std::string& kind, const asio::ip::tcp::endpoint& ep) const {
  for (const auto& s : sockets_) {
    if (s.kind == kind && s.endpoint == ep) return true;
  }
  return false;
}

bool Takeover::release_old(std::string& error) {
  char buf[64];
  if (!send_text(conn_, "DRAIN")) {
    error = error_text("upgrade: send");
    return false;
  }
  const ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
  if (n != 8 || std::memcmp(buf, "DRAINING", 8) != 0) {
    error = n < 0 ? error_text("upgrade: receive") : "the old process did not confirm its drain";
    return false;
  }
  return true;
}

// ---- the running process ----

struct UpgradeListener::Peer {
  explicit Peer(asio::io_context& io) : sock(io), timer(io) {}
  asio::posix::stream_descriptor sock;  // an accepted AF_UNIX SOCK_SEQPACKET
  asio::steady_timer timer;
  bool sent = false;  // the sockets went out: the next message must be DRAIN
};

UpgradeListener::UpgradeListener(asio::io_context& io, std::string path, Collect collect,
                                 std::function<void()> drain, Log log)
    : io_(io),
      path_(std::move(path)),
      collect_(std::move(collect)),
      drain_(std::move(drain)),
      log_(std::move(log)),
      acceptor_(io),
      pause_(io) {}

UpgradeListener::~UpgradeListener() {
  stop();
}

bool UpgradeListener::listen(std::string& error) {
  // A socket file left by a process that is gone is replaced; one that answers is not ours.
  if (answered(path_)) {
    error = "upgrade_socket " + path_ +
            ": another sessiongate serves there (start with --upgrade to take over from it)";
    return false;
  }
  ::unlink(path_.c_str());
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr = unix_address(path_);
  const mode_t old = ::umask(0177);  // the same user (or root) only
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::listen(fd, 4) == 0;
  ::umask(old);
  if (!ok) {
    error = "upgrade_socket " + path_ + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  acceptor_.assign(fd);
  open_ = true;
  accept();
  return true;
}

bool UpgradeListener::answered(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr = unix_address(path);
  const bool live = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return live;
}

void UpgradeListener::stop() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_.cancel();
  ::unlink(path_.c_str());
}

void UpgradeListener::accept() {
  acceptor_.async_wait(
      asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted || !open_) return;
        const int fd = ec ? -1
                          : ::accept4(acceptor_.native_handle(), nullptr, nullptr,
                                      SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
          auto p = std::make_shared<Peer>(io_);
          p->sock.assign(fd);
          ucred cred{};
          socklen_t len = sizeof cred;
          const bool same =
              ::getsockopt(p->sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
              (cred.uid == ::geteuid() || cred.uid == 0);
          if (same) {
            log_("upgrade: a new process (pid " + std::to_string(cred.pid) + ") connected");
            p->timer.expires_after(std::chrono::seconds(60));  // it must start within a minute
            p->timer.async_wait([p](const boost::system::error_code& tec) {
              if (!tec) p->sock.close();
            });
            serve(p);
          } else {
            log_("upgrade: refused a connection from uid " + std::to_string(cred.uid));
          }
        } else if (!ec && errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) {
          // Out of descriptors (or memory): retrying at once would spin the control plane.
          log_(std::string("upgrade: accept failed: ") + std::strerror(errno) +
               "; trying again in 1 s");
          pause_.expires_after(std::chrono::seconds(1));
          pause_.async_wait([this](const boost::system::error_code& pec) {
            if (!pec && open_) accept();
          });
          return;
        }
        accept();
      });
}

void UpgradeListener::serve(std::shared_ptr<Peer> p) {
  p->sock.async_wait(
      asio::posix::stream_descriptor::wait_read, [this, p](const boost::system::error_code& ec) {
        char buf[64];
        const ssize_t n = ec ? -1 : ::recv(p->sock.native_handle(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && !ec && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          serve(p);
          return;
        }
        const std::string msg = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
        if (!p->sent && msg == kHello) {
          collect_([this, p](std::vector<PassedSocket> socks) {
            std::string text = "SOCKETS " + std::to_string(socks.size()) + "\n";
            std::vector<int> fds;
            for (const auto& s : socks) {
              text += s.kind + " " + s.endpoint.address().to_string() + " " +
                      std::to_string(s.endpoint.port()) + "\n";
              fds.push_back(s.fd);
            }
            bool ok = fds.size() <= kMaxSockets;
            if (ok) {
              iovec iov{text.data(), text.size()};
              std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<size_t>(fds.size(), 1)));
              msghdr m{};
              m.msg_iov = &iov;
              m.msg_iovlen = 1;
              if (!fds.empty()) {
                m.msg_control = control.data();
                m.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
                cmsghdr* c = CMSG_FIRSTHDR(&m);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
                std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
              }
              ok = ::sendmsg(p->sock.native_handle(), &m, MSG_NOSIGNAL | MSG_DONTWAIT) ==
                   static_cast<ssize_t>(text.size());
            }
            for (int fd : fds) ::close(fd);  // the duplicates: the workers keep their own
            if (!ok) {
              log_("upgrade: could not pass the listening sockets; still serving");
              p->sock.close();
              return;
            }
            log_("upgrade: passed " + std::to_string(fds.size()) +
                 " listening sockets; waiting for the new process to serve");
            p->sent = true;
            serve(p);
          });
          return;
        }
        if (p->sent && msg == "DRAIN") {
          stop();  // the new process listens here next
          send_text(p->sock.native_handle(), "DRAINING");
          p->timer.cancel();
          log_("upgrade: the new process serves; draining");
          drain_();
          return;
        }
        p->timer.cancel();
        log_(p->sent ? "upgrade: the new process went away before it took over; still serving"
                     : "upgrade: not an upgrade request; closed");
        p->sock.close();
      });
}

}  // namespace sg::app
