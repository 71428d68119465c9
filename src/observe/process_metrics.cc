#include "observe/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sg::observe {

namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(buf).append("\n");
}

size_t open_fds() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    if (n > 0) --n;  // the descriptor opendir itself holds
  }
  return n;
}

// Boot time, for turning /proc/self/stat's start ticks into wall-clock seconds.
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  double v = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

void render_process_metrics(std::string& out) {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (in parentheses, which may hold spaces): state is field 3.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream f(stat.substr(close + 2));
  std::string field[50];
  for (int i = 3; i <= 24 && f >> field[i]; ++i) {
  }
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  auto num = [&](int i) { return field[i].empty() ? 0.0 : std::strtod(field[i].c_str(), nullptr); };
  metric(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.", (num(14) + num(15)) / tick);
  metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         num(24) * page);
  metric(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", num(23));
  metric(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", boot_time() + num(22) / tick);
  metric(out, "process_open_fds", "gauge", "Number of open file descriptors.",
         static_cast<double>(open_fds()));
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    metric(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
           lim.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(lim.rlim_cur));
  }
}

void render_stats(const std::vector<Stat>& stats, std::string& out) {
  const std::string* last = nullptr;
  for (const Stat& s : stats) {
    if (!last || *last != s.name) {
      out.append("# HELP sessiongate_").append(s.name).append(" ").append(s.help).append("\n");
      out.append("# TYPE sessiongate_")
          .append(s.name)
          .append(s.counter ? " counter\n" : " gauge\n");
    }
    last = &s.name;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", s.value);
    out.append("sessiongate_").append(s.name);
    if (!s.labels.empty()) out.append("{").append(s.labels).append("}");
    out.append(" ").append(buf).append("\n");
  }
}

void render_build_info(std::string_view version, std::string_view commit,
                       std::string_view build_type, std::string& out) {
  out.append(
      "# HELP sessiongate_build_info The running binary: version, git commit, build type.\n");
  out.append("# TYPE sessiongate_build_info gauge\n");
  out.append("sessiongate_build_info{version=\"").append(version);
  out.append("\",commit=\"").append(commit);
  out.append("\",build_type=\"").append(build_type).append("\"} 1\n");
}

}  // namespace sg::observe
