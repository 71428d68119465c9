// JSON access log: one line per request or tunnel. Workers format lines into their own buffer
// and hand full buffers to a writer thread; the data plane never waits on the disk. When the
// writer falls behind, batches are dropped and counted instead of growing memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sg::observe {

// Field names, in output order. `fields` in the config picks a subset.
#define SG_ACCESS_FIELDS(X)                                                                    \
  X(time)                                                                                      \
  X(client)                                                                                    \
  X(method)                                                                                    \
  X(host)                                                                                      \
  X(path) X(protocol) X(status) X(outcome) X(rule) X(session) X(container) X(generation)       \
      X(bytes_in) X(bytes_out) X(duration_ms) X(upstream_connect_ms) X(upstream_first_byte_ms) \
          X(tunnel) X(user_agent) X(request_id) X(upstream) X(referer) X(trace_id)

enum class AccessField : uint8_t {
#define SG_AF(name) k_##name,
  SG_ACCESS_FIELDS(SG_AF)
#undef SG_AF
      kCount
};
bool parse_access_field(std::string_view name, AccessField& out);

struct AccessRecord {
  int64_t time_ms = 0;
  std::string_view client, method, host, path, protocol, outcome, rule, session, container,
      user_agent, request_id, upstream, referer, trace_id;
  uint64_t generation = 0;
  int status = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  int64_t duration_us = -1, connect_us = -1, first_byte_us = -1;  // -1: not applicable
  bool tunnel = false;
};

// Appends one JSON line for the enabled fields (bit i = AccessField i).
void format_access_line(const AccessRecord& r, uint32_t fields, std::string& out);

class AccessLog {
 public:
  // `path` is "stdout" or a file, opened for appending. On failure `error` is set.
  AccessLog(std::string path, uint32_t fields, std::string& error);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  uint32_t fields() const { return fields_; }
  // Thread-safe, never blocks on I/O. False when the batch was dropped (writer behind).
  bool submit(std::string&& batch);
  // Thread-safe: the writer reopens the file (log rotation, SIGUSR1).
  void reopen();
  // Thread-safe: the writer moves to `path` (a reload); batches queued before go there too.
  void retarget(std::string path);
  // Whether `path` can be opened for appending (created if missing), as the writer will.
  static bool check_path(const std::string& path, std::string& error);

 private:
  void run();
  bool open_file(std::string& error);

  std::string path_;
  uint32_t fields_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool stop_ = false;
  bool reopen_ = false;
  std::string next_path_;  // set by retarget(), taken by the writer
  std::thread thread_;
};

}  // namespace sg::observe
