#include "observe/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace sg::observe {

namespace {

constexpr size_t kMaxQueuedBytes = 16u << 20;

constexpr std::string_view kFieldNames[] = {
#define SG_AFN(name) #name,
    SG_ACCESS_FIELDS(SG_AFN)
#undef SG_AFN
};

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      // Logs must stay valid JSON (UTF-8) whatever bytes a client sent.
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void ms_value(std::string& out, int64_t us) {
  if (us < 0) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us) / 1000.0);
  out += buf;
}

}  // namespace

bool parse_access_field(std::string_view name, AccessField& out) {
  for (size_t i = 0; i < static_cast<size_t>(AccessField::kCount); ++i) {
    if (kFieldNames[i] == name) {
      out = static_cast<AccessField>(i);
      return true;
    }
  }
  return false;
}

void format_access_line(const AccessRecord& r, uint32_t fields, std::string& out) {
  out += '{';
  bool first = true;
  auto key = [&](AccessField f) {
    if (!(fields & (1u << static_cast<unsigned>(f)))) return false;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += kFieldNames[static_cast<size_t>(f)];
    out += "\":";
    return true;
  };
  if (key(AccessField::k_time)) {
    time_t secs = static_cast<time_t>(r.time_ms / 1000);
    tm t{};
    gmtime_r(&secs, &t);
    char buf[96];
    std::snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                  static_cast<int>(r.time_ms % 1000));
    out += buf;
  }
  // One convention: a value that does not apply (no rule matched, no session, no upstream,
  // an unparsed head) is null, never "".
  const auto text = [&](std::string_view v) {
    if (v.empty()) {
      out += "null";
    } else {
      json_string(out, v);
    }
  };
  if (key(AccessField::k_client)) text(r.client);
  if (key(AccessField::k_method)) text(r.method);
  if (key(AccessField::k_host)) text(r.host);
  if (key(AccessField::k_path)) text(r.path);
  if (key(AccessField::k_protocol)) text(r.protocol);
  if (key(AccessField::k_status)) out += std::to_string(r.status);
  if (key(AccessField::k_outcome)) text(r.outcome);
  if (key(AccessField::k_rule)) text(r.rule);
  if (key(AccessField::k_session)) text(r.session);
  if (key(AccessField::k_container)) text(r.container);
  if (key(AccessField::k_generation)) {
    if (r.container.empty()) {
      out += "null";
    } else {
      out += std::to_string(r.generation);
    }
  }
  if (key(AccessField::k_bytes_in)) out += std::to_string(r.bytes_in);
  if (key(AccessField::k_bytes_out)) out += std::to_string(r.bytes_out);
  if (key(AccessField::k_duration_ms)) ms_value(out, r.duration_us);
  if (key(AccessField::k_upstream_connect_ms)) ms_value(out, r.connect_us);
  if (key(AccessField::k_upstream_first_byte_ms)) ms_value(out, r.first_byte_us);
  if (key(AccessField::k_tunnel)) out += r.tunnel ? "true" : "false";
  if (key(AccessField::k_user_agent)) text(r.user_agent);
  if (key(AccessField::k_request_id)) text(r.request_id);
  if (key(AccessField::k_upstream)) text(r.upstream);
  if (key(AccessField::k_referer)) text(r.referer);
  if (key(AccessField::k_trace_id)) text(r.trace_id);
  out += "}\n";
}

AccessLog::AccessLog(std::string path, uint32_t fields, std::string& error)
    : path_(std::move(path)), fields_(fields) {
  if (!open_file(error)) return;
  thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ > 2) ::close(fd_);
}

bool AccessLog::open_file(std::string& error) {
  if (path_ == "stdout") {
    if (fd_ > 2) ::close(fd_);
    fd_ = 1;
    return true;
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "cannot open access log " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (fd_ > 2) ::close(fd_);
  fd_ = fd;
  return true;
}

bool AccessLog::submit(std::string&& batch) {
  if (batch.empty()) return true;
  {
    std::lock_guard lock(mu_);
    if (queued_bytes_ + batch.size() > kMaxQueuedBytes) return false;
    queued_bytes_ += batch.size();
    queue_.push_back(std::move(batch));
  }
  cv_.notify_one();
  return true;
}

void AccessLog::reopen() {
  {
    std::lock_guard lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

void AccessLog::retarget(std::string path) {
  {
    std::lock_guard lock(mu_);
    next_path_ = std::move(path);
    reopen_ = true;
  }
  cv_.notify_one();
}

bool AccessLog::check_path(const std::string& path, std::string& error) {
  if (path == "stdout") return true;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "cannot open access log " + path + ": " + std::strerror(errno);
    return false;
  }
  ::close(fd);
  return true;
}

void AccessLog::run() {
  for (;;) {
    std::deque<std::string> batch;
    bool reopen = false;
    bool stop = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || reopen_ || !queue_.empty(); });
      batch.swap(queue_);
      queued_bytes_ = 0;
      reopen = reopen_;
      reopen_ = false;
      if (!next_path_.empty()) path_ = std::move(next_path_);
      next_path_.clear();
      stop = stop_;
    }
    if (reopen) {
      std::string error;
      if (!open_file(error)) std::fprintf(stderr, "sessiongate: %s\n", error.c_str());
    }
    for (const auto& b : batch) {
      size_t off = 0;
      while (off < b.size()) {
        ssize_t n = ::write(fd_, b.data() + off, b.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
    }
    if (stop) return;
  }
}

}  // namespace sg::observe
