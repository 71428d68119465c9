// `sessiongate container ...`: register, heartbeat, show, list, delete.
#include <iostream>

#include "app/cli_support.h"

namespace sg::app::cli {

void add_container_commands(CLI::App& app, const OptionsPtr& o, std::function<int()>& run) {
  auto* container = app.add_subcommand("container", "Manage containers (admin API client)");
  container->require_subcommand(1);
  auto* reg = container->add_subcommand("register", "Register or re-register a container");
  reg->add_option("id", o->id, "Container id")->required();
  reg->add_option("--address", o->address, "IP:PORT of its dev server")->required();
  reg->add_option("--status", o->status,
                  "starting | ready | draining | stopped | failed (default ready)");
  reg->add_option("--lease", o->lease, "Lease, e.g. 30s: heartbeat more often than this");
  common_options(reg, *o);
  reg->callback([o, &run] {
    run = [o] {
      std::string body = "{\"address\":" + json_string(o->address);
      if (!o->status.empty()) body += ",\"status\":" + json_string(o->status);
      if (!o->lease.empty()) body += ",\"lease_ttl\":" + json_string(o->lease);
      body += "}";
      return call(*o, "PUT", "/v1/containers/" + o->id, body, [](const json::value& v) {
        print_table({{"ID", "ADDRESS", "STATE", "GEN", "LEASE", "HEARTBEAT"},
                     container_row(v.as_object())});
      });
    };
  });
  auto* hb = container->add_subcommand("heartbeat", "Renew a container's lease");
  hb->add_option("id", o->id, "Container id")->required();
  common_options(hb, *o);
  hb->callback([o, &run] {
    run = [o] {
      return call(
          *o, "POST", "/v1/containers/" + o->id + "/heartbeat", "", [](const json::value& v) {
            std::cout << "lease renewed: " << str(v.as_object().if_contains("id")) << " until "
                      << ago(v.at("lease_expires_at").to_number<int64_t>()) << "\n";
          });
    };
  });
  auto* cshow = container->add_subcommand("show", "Show one container");
  cshow->add_option("id", o->id, "Container id")->required();
  common_options(cshow, *o);
  cshow->callback([o, &run] {
    run = [o] {
      return call(*o, "GET", "/v1/containers/" + o->id, "", [](const json::value& v) {
        print_table({{"ID", "ADDRESS", "STATE", "GEN", "LEASE", "HEARTBEAT"},
                     container_row(v.as_object())});
      });
    };
  });
  auto* clist = container->add_subcommand("list", "List containers");
  common_options(clist, *o);
  clist->callback([o, &run] {
    run = [o] {
      return call(*o, "GET", "/v1/containers", "", [](const json::value& v) {
        std::vector<std::vector<std::string>> rows{
            {"ID", "ADDRESS", "STATE", "GEN", "LEASE", "HEARTBEAT"}};
        for (const auto& c : v.at("containers").as_array())
          rows.push_back(container_row(c.as_object()));
        print_table(rows);
      });
    };
  });
  auto* cdel = container->add_subcommand("delete", "Delete a container (its sessions stay)");
  cdel->add_option("id", o->id, "Container id")->required();
  common_options(cdel, *o);
  cdel->callback([o, &run] {
    run = [o] {
      return call(*o, "DELETE", "/v1/containers/" + o->id, "",
                  [o](const json::value&) { std::cout << "deleted container " << o->id << "\n"; });
    };
  });
}

}  // namespace sg::app::cli
