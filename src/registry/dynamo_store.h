// The registry on a platform's own DynamoDB tables: a sessions table (thread id -> container)
// and a containers table (container -> address, port, status), with every attribute name
// configurable. Each write is one conditional single-item write, checked against the item's
// sg_rev, so two routers never silently overwrite each other (a lost race is read again and
// retried). Versions handed to the registry are this router's own logical clock, stamped
// before each read, shared with the feed (dynamo_feed.h): a read that began before a write
// can never undo it. Calls block their thread (StorePool threads only).
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "aws/dynamodb_client.h"
#include "registry/store.h"
#include "registry/store_config.h"

namespace sg::registry {

class DynamoStore final : public Store {
 public:
  // Activity writes in flight at once (the client's pool has a connection for each).
  static constexpr size_t kActivityLanes = 8;

  DynamoStore(DynamoConfig config, std::shared_ptr<aws::DynamoClient> client);

  StoreError put_container(Container& c) override;
  StoreError heartbeat(const std::string& id, Millis now, Container& out, bool& found) override;
  StoreError delete_container(const std::string& id, bool& found) override;
  StoreError get_container(const std::string& id, std::optional<Container>& out) override;
  StoreError list_containers(std::vector<Container>& out) override;

  StoreError put_session(Session& s) override;
  StoreError delete_session(const std::string& id, bool& found) override;
  StoreError get_session(const std::string& id, std::optional<Session>& out) override;
  StoreError list_sessions(const SessionQuery& q, std::vector<Session>& out) override;
  StoreError touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) override;
  StoreError expire_sessions(const std::vector<std::string>& ids, Millis now,
                             std::vector<Expiry>& out) override;
  StoreError acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                           Millis now, bool& acquired) override;
  StoreError release_lease(const std::string& name, const std::string& owner) override;
  bool ping() override;
  std::vector<Stat> stats() const override;
  StoreError load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                      uint64_t& version) override;

  // For the feed. A version newer than every record read or written so far.
  uint64_t stamp() { return clock_.fetch_add(1, std::memory_order_relaxed) + 1; }
  // Sessions with activity reported since `since` (wall ms): the routes in use.
  std::vector<std::string> used_since(Millis since);
  // Whole tables (consistent reads), in parallel segments; unreadable items are skipped and
  // counted in `skipped`. `version`: the stamp taken before reading.
  StoreError scan(std::vector<Container>& containers, std::vector<Session>& sessions,
                  uint64_t& version, size_t* skipped = nullptr);
  // The named items (consistent reads, batches of 100); absent ones are simply not returned.
  StoreError read_sessions(const std::vector<std::string>& ids, std::vector<Session>& out);
  StoreError read_containers(const std::vector<std::string>& ids, std::vector<Container>& out);

  const DynamoConfig& config() const { return config_; }

 private:
  struct Item {
    boost::json::object attrs;
    bool found = false;
  };
  StoreError call(std::string_view action, const boost::json::object& req,
                  boost::json::object& resp, aws::DynamoError* raw = nullptr);
  StoreError get_item(const std::string& table, const std::string& key_attr, const std::string& id,
                      Item& out);
  // The condition that the item is still as read: absent, sessiongate-unwritten, or at `rev`.
  static std::string unchanged_condition(const Item& old, const std::string& key_placeholder,
                                         boost::json::object& values);
  StoreError scan_table(const std::string& table, std::vector<boost::json::object>& items);
  StoreError batch_read(const std::string& table, const std::string& key_attr,
                        const std::vector<std::string>& ids,
                        std::vector<boost::json::object>& items);
  StoreError delete_item(const std::string& table, const std::string& key_attr,
                         const std::string& id, bool& found);
  StoreError touch_one(const std::string& id, Millis at);
  // Decides and, when due, conditionally deletes one session.
  StoreError expire_one(const std::string& id, Millis now, Expiry& out);

  DynamoConfig config_;
  std::shared_ptr<aws::DynamoClient> client_;
  std::atomic<uint64_t> clock_{0};
  std::mutex used_mu_;
  std::unordered_map<std::string, Millis> used_;
};

}  // namespace sg::registry
