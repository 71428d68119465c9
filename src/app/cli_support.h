// What every admin-API subcommand shares: its options, the call (one request, the outcome
// printed, the exit code), tables and the rows of each record.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/admin_client.h"

namespace sg::app::cli {

namespace json = boost::json;

struct Options {
  std::string admin;
  bool json = false;
  // container
  std::string id;
  std::string address;
  std::string status;
  std::string lease;
  // session
  std::string container;
  std::string idle_ttl;
  std::string sleep_after;
  std::string expires_in;
  std::vector<std::string> labels;
  std::string label_filter;
  size_t limit = 0;
  // links and tokens
  std::string ttl;
  bool sessions = false;
  std::string access;
  std::string after;
};

using OptionsPtr = std::shared_ptr<Options>;

AdminTarget target(const Options& o);
std::string str(const json::value* v);
std::string ago(int64_t ms_epoch);
std::string duration(int64_t ms);
void print_table(const std::vector<std::vector<std::string>>& rows);
std::vector<std::string> container_row(const json::object& c);
std::vector<std::string> session_row(const json::object& s);
// Sends the call and prints the outcome; `show` prints a successful JSON body for people. The
// exit code: 0 ok, 1 no answer or a server error, 2 a malformed --admin, 3 not found, 4 refused.
int call(const Options& o, const std::string& method, const std::string& path,
         const std::string& body, const std::function<void(const json::value&)>& show);
std::string json_string(const std::string& s);
// --admin and --json, on every subcommand.
void common_options(CLI::App* cmd, Options& o);

// The subcommands, by resource.
void add_container_commands(CLI::App& app, const OptionsPtr& o, std::function<int()>& run);
void add_session_commands(CLI::App& app, const OptionsPtr& o, std::function<int()>& run);
void add_link_commands(CLI::App* session, CLI::App* container, const OptionsPtr& o,
                       std::function<int()>& run);

}  // namespace sg::app::cli
