#include "registry/dynamo_store.h"

#include <algorithm>
#include <boost/json.hpp>
#include <future>

#include "registry/dynamo_items.h"

namespace sg::registry {

namespace json = boost::json;
using dynamo::N;
using dynamo::S;

namespace {

constexpr int kWriteAttempts = 5;  // conditional-write races lost before giving up
// Activity older than this no longer counts as "in use" for revalidation.
constexpr Millis kUsedWindowMs = 10 * 60 * 1000;

std::string conflict(const char* what, const std::string& id) {
  return "dynamodb: " + std::string(what) + " " + id + " was changed by another writer " +
         std::to_string(kWriteAttempts) + " times while this write was retried; try again";
}

std::string ip_text(const boost::asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string();
}

}  // namespace

DynamoStore::DynamoStore(DynamoConfig config, std::shared_ptr<aws::DynamoClient> client)
    : config_(std::move(config)), client_(std::move(client)) {}

StoreError DynamoStore::call(std::string_view action, const json::object& req, json::object& resp,
                             aws::DynamoError* raw) {
  aws::DynamoError e = client_->call(action, req, resp);
  if (raw) *raw = e;
  if (!e) return {};
  return {e.text(), e.timed_out};
}

StoreError DynamoStore::get_item(const std::string& table, const std::string& key_attr,
                                 const std::string& id, Item& out) {
  json::object req;
  req["TableName"] = table;
  req["Key"] = dynamo::key_of(key_attr, id);
  req["ConsistentRead"] = true;
  json::object resp;
  if (auto e = call("GetItem", req, resp)) return e;
  out = {};
  if (const json::value* item = resp.if_contains("Item"); item && item->is_object()) {
    out.attrs = item->as_object();
    out.found = true;
  }
  return {};
}

std::string DynamoStore::unchanged_condition(const Item& old, const std::string& key_placeholder,
                                             json::object& values) {
  if (!old.found) return "attribute_not_exists(" + key_placeholder + ")";
  const uint64_t rev = dynamo::revision(old.attrs);
  if (rev == 0) return "attribute_exists(" + key_placeholder + ") AND attribute_not_exists(sg_rev)";
  values[":old_rev"] = N(static_cast<int64_t>(rev));
  return "attribute_exists(" + key_placeholder + ") AND sg_rev = :old_rev";
}

StoreError DynamoStore::put_container(Container& c) {
  const DynamoAttributes& a = config_.attributes;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    const uint64_t version = stamp();
    Item old;
    if (auto e = get_item(config_.containers_table, a.container_id, c.id, old)) return e;
    const Millis now = now_ms();
    int64_t generation = 0, created = now;
    dynamo::get_n(old.attrs, "sg_generation", generation);
    dynamo::get_n(old.attrs, "sg_created_at", created);
    json::object values{{":addr", S(ip_text(c.address))},
                        {":port", N(c.address.port())},
                        {":status", S(to_string(c.status))},
                        {":gen", N(generation + 1)},
                        {":lease", N(c.lease_ttl)},
                        {":now", N(now)},
                        {":created", N(created)},
                        {":rev", N(static_cast<int64_t>(dynamo::revision(old.attrs) + 1))}};
    json::object req;
    req["TableName"] = config_.containers_table;
    req["Key"] = dynamo::key_of(a.container_id, c.id);
    req["UpdateExpression"] =
        "SET #addr = :addr, #port = :port, #status = :status, sg_generation = :gen, "
        "sg_lease_ms = :lease, sg_heartbeat_at = :now, sg_created_at = :created, "
        "sg_updated_at = :now, sg_rev = :rev";
    req["ConditionExpression"] = unchanged_condition(old, "#id", values);
    req["ExpressionAttributeNames"] = json::object{{"#addr", a.container_address},
                                                   {"#port", a.container_port},
                                                   {"#status", a.container_status},
                                                   {"#id", a.container_id}};
    req["ExpressionAttributeValues"] = std::move(values);
    req["ReturnValues"] = "ALL_NEW";
    json::object resp;
    aws::DynamoError raw;
    if (auto e = call("UpdateItem", req, resp, &raw)) {
      if (raw.is("ConditionalCheckFailedException")) continue;
      return e;
    }
    std::string why;
    const json::value* attrs = resp.if_contains("Attributes");
    Container stored;
    if (!attrs || !attrs->is_object() ||
        !dynamo::container_from_item(attrs->as_object(), a, config_.default_port, stored, why)) {
      return {"dynamodb: unexpected UpdateItem answer for container " + c.id + ": " + why};
    }
    stored.version = version;
    c = stored;
    announce({Change::Kind::kContainerPut, c.id, c, std::nullopt, c.version});
    return {};
  }
  return {conflict("container", c.id)};
}

StoreError DynamoStore::heartbeat(const std::string& id, Millis now, Container& out, bool& found) {
  const DynamoAttributes& a = config_.attributes;
  const uint64_t version = stamp();
  json::object req;
  req["TableName"] = config_.containers_table;
  req["Key"] = dynamo::key_of(a.container_id, id);
  req["UpdateExpression"] = "SET sg_heartbeat_at = :now";
  req["ConditionExpression"] = "attribute_exists(#id)";
  req["ExpressionAttributeNames"] = json::object{{"#id", a.container_id}};
  req["ExpressionAttributeValues"] = json::object{{":now", N(now)}};
  req["ReturnValues"] = "ALL_NEW";
  json::object resp;
  aws::DynamoError raw;
  found = false;
  if (auto e = call("UpdateItem", req, resp, &raw)) {
    return raw.is("ConditionalCheckFailedException") ? StoreError{} : e;
  }
  const json::value* attrs = resp.if_contains("Attributes");
  std::string why;
  if (!attrs || !attrs->is_object() ||
      !dynamo::container_from_item(attrs->as_object(), a, config_.default_port, out, why)) {
    return {"dynamodb: unexpected UpdateItem answer for container " + id + ": " + why};
  }
  found = true;
  out.version = version;
  announce({Change::Kind::kContainerPut, id, out, std::nullopt, version});
  return {};
}

StoreError DynamoStore::delete_item(const std::string& table, const std::string& key_attr,
                                    const std::string& id, bool& found) {
  json::object req;
  req["TableName"] = table;
  req["Key"] = dynamo::key_of(key_attr, id);
  req["ReturnValues"] = "ALL_OLD";
  json::object resp;
  if (auto e = call("DeleteItem", req, resp)) return e;
  const json::value* attrs = resp.if_contains("Attributes");
  found = attrs && attrs->is_object() && !attrs->as_object().empty();
  return {};
}

StoreError DynamoStore::delete_container(const std::string& id, bool& found) {
  const uint64_t version = stamp();
  if (auto e = delete_item(config_.containers_table, config_.attributes.container_id, id, found)) {
    return e;
  }
  if (found) announce({Change::Kind::kContainerDeleted, id, std::nullopt, std::nullopt, version});
  return {};
}

StoreError DynamoStore::get_container(const std::string& id, std::optional<Container>& out) {
  const uint64_t version = stamp();
  Item item;
  if (auto e = get_item(config_.containers_table, config_.attributes.container_id, id, item)) {
    return e;
  }
  out.reset();
  Container c;
  std::string why;
  if (!item.found) return {};
  if (!dynamo::container_from_item(item.attrs, config_.attributes, config_.default_port, c, why)) {
    return {"dynamodb: " + why};
  }
  c.version = version;
  out = std::move(c);
  return {};
}

StoreError DynamoStore::list_containers(std::vector<Container>& out) {
  std::vector<json::object> items;
  const uint64_t version = stamp();
  if (auto e = scan_table(config_.containers_table, items)) return e;
  dynamo::decode(items, config_, version, out);
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  return {};
}

StoreError DynamoStore::put_session(Session& s) {
  const DynamoAttributes& a = config_.attributes;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    const uint64_t version = stamp();
    Item old;
    if (auto e = get_item(config_.sessions_table, a.session_id, s.id, old)) return e;
    const Millis now = now_ms();
    int64_t created = now, old_epoch = 0;
    dynamo::get_n(old.attrs, "sg_created_at", created);
    dynamo::get_n(old.attrs, "sg_link_epoch", old_epoch);
    const int64_t epoch = std::max<int64_t>(old_epoch, static_cast<int64_t>(s.link_epoch));
    json::object values{{":epoch", N(epoch)},
                        {":labels", S(labels_to_json(s.labels))},
                        {":idle", N(s.idle_ttl)},
                        {":sleep", N(s.sleep_after)},
                        {":expires", N(s.expires_at)},
                        {":now", N(now)},
                        {":created", N(created)},
                        {":rev", N(static_cast<int64_t>(dynamo::revision(old.attrs) + 1))}};
    std::string set =
        "SET sg_link_epoch = :epoch, sg_labels = :labels, sg_idle_ttl_ms = :idle, "
        "sg_sleep_after_ms = :sleep, sg_expires_at_ms = :expires, sg_created_at = :created, "
        "sg_updated_at = :now, sg_rev = :rev, "
        "sg_last_active_at = if_not_exists(sg_last_active_at, :now)";
    std::string remove;
    auto set_or_remove = [&](const char* name, const char* placeholder, bool present,
                             json::object value) {
      if (present) {
        set += std::string(", ") + name + " = " + placeholder;
        values[placeholder] = std::move(value);
      } else {
        remove += std::string(remove.empty() ? " REMOVE " : ", ") + name;
      }
    };
    set_or_remove("#container", ":container", !s.container_id.empty(), S(s.container_id));
    set_or_remove("sg_access", ":access", !s.access.empty(), S(s.access));
    // DynamoDB deletes expired items by this attribute on its own (within days, not at
    // once: the sweeper stays the one that ends a session on time).
    set_or_remove("#ttl", ":ttl", s.expires_at > 0, N((s.expires_at + 999) / 1000));
    json::object req;
    req["TableName"] = config_.sessions_table;
    req["Key"] = dynamo::key_of(a.session_id, s.id);
    req["UpdateExpression"] = set + remove;
    req["ConditionExpression"] = unchanged_condition(old, "#id", values);
    req["ExpressionAttributeNames"] = json::object{
        {"#container", a.session_container}, {"#ttl", a.expires_at}, {"#id", a.session_id}};
    req["ExpressionAttributeValues"] = std::move(values);
    req["ReturnValues"] = "ALL_NEW";
    json::object resp;
    aws::DynamoError raw;
    if (auto e = call("UpdateItem", req, resp, &raw)) {
      if (raw.is("ConditionalCheckFailedException")) continue;
      return e;
    }
    const json::value* attrs = resp.if_contains("Attributes");
    Session stored;
    std::string why;
    if (!attrs || !attrs->is_object() ||
        !dynamo::session_from_item(attrs->as_object(), a, stored, why)) {
      return {"dynamodb: unexpected UpdateItem answer for session " + s.id + ": " + why};
    }
    stored.version = version;
    s = stored;
    announce({Change::Kind::kSessionPut, s.id, std::nullopt, s, s.version});
    return {};
  }
  return {conflict("session", s.id)};
}

StoreError DynamoStore::delete_session(const std::string& id, bool& found) {
  const uint64_t version = stamp();
  if (auto e = delete_item(config_.sessions_table, config_.attributes.session_id, id, found)) {
    return e;
  }
  if (found) announce({Change::Kind::kSessionDeleted, id, std::nullopt, std::nullopt, version});
  return {};
}

StoreError DynamoStore::get_session(const std::string& id, std::optional<Session>& out) {
  out.reset();
  if (!valid_id(id)) return {};  // lease items share the table under keys no id can have
  const uint64_t version = stamp();
  Item item;
  if (auto e = get_item(config_.sessions_table, config_.attributes.session_id, id, item)) return e;
  if (!item.found) return {};
  Session s;
  std::string why;
  if (!dynamo::session_from_item(item.attrs, config_.attributes, s, why)) {
    return {"dynamodb: " + why};
  }
  s.version = version;
  out = std::move(s);
  return {};
}

StoreError DynamoStore::list_sessions(const SessionQuery& q, std::vector<Session>& out) {
  // A table has no order to page by: read it whole, then filter, sort and page here. Fine
  // for an operator's listing; the routers never list (they load, then follow the feed).
  std::vector<json::object> items;
  const uint64_t version = stamp();
  if (auto e = scan_table(config_.sessions_table, items)) return e;
  std::vector<Session> all;
  for (const auto& item : items) {
    Session s;
    std::string why;
    if (!dynamo::session_from_item(item, config_.attributes, s, why)) continue;
    if (!q.after.empty() && s.id <= q.after) continue;
    if (!q.label_key.empty()) {
      auto it = s.labels.find(q.label_key);
      if (it == s.labels.end() || it->second != q.label_value) continue;
    }
    s.version = version;
    all.push_back(std::move(s));
  }
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  if (all.size() > q.limit) all.resize(q.limit);
  for (auto& s : all) out.push_back(std::move(s));
  return {};
}

StoreError DynamoStore::touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) {
  {
    std::lock_guard lock(used_mu_);
    for (const auto& [id, at] : seen) {
      Millis& t = used_[id];
      t = std::max(t, at);
    }
  }
  // One conditional UpdateItem per session (DynamoDB has no batched update), several in
  // flight: one at a time, a round for 10,000 active sessions took longer than the interval.
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  StoreError first_error;
  std::atomic<bool> failed{false};
  auto lane = [&] {
    for (size_t i; !failed && (i = next.fetch_add(1)) < seen.size();) {
      if (auto e = touch_one(seen[i].first, seen[i].second)) {
        std::lock_guard lock(error_mu);
        if (!failed.exchange(true)) first_error = std::move(e);
      }
    }
  };
  const size_t lanes = std::min(kActivityLanes, seen.size() / 8 + 1);
  std::vector<std::future<void>> others;
  for (size_t l = 1; l < lanes; ++l) others.push_back(std::async(std::launch::async, lane));
  lane();
  for (auto& f : others) f.get();
  return first_error;
}

StoreError DynamoStore::touch_one(const std::string& id, Millis at) {
  if (!valid_id(id)) return {};
  const std::string& pk = config_.attributes.session_id;
  json::object req;
  req["TableName"] = config_.sessions_table;
  req["Key"] = dynamo::key_of(pk, id);
  req["UpdateExpression"] = "SET sg_last_active_at = :t";
  // Never lowers activity, and never creates an item for a session that is gone.
  req["ConditionExpression"] =
      "attribute_exists(#id) AND (attribute_not_exists(sg_last_active_at) OR "
      "sg_last_active_at < :t)";
  req["ExpressionAttributeNames"] = json::object{{"#id", pk}};
  req["ExpressionAttributeValues"] = json::object{{":t", N(at)}};
  json::object resp;
  aws::DynamoError raw;
  if (auto e = call("UpdateItem", req, resp, &raw)) {
    if (!raw.is("ConditionalCheckFailedException")) return e;
  }
  return {};
}

std::vector<std::string> DynamoStore::used_since(Millis since) {
  std::lock_guard lock(used_mu_);
  std::vector<std::string> out;
  const Millis forget = now_ms() - kUsedWindowMs;
  for (auto it = used_.begin(); it != used_.end();) {
    if (it->second < forget) {
      it = used_.erase(it);
      continue;
    }
    if (it->second >= since) out.push_back(it->first);
    ++it;
  }
  return out;
}

StoreError DynamoStore::expire_one(const std::string& id, Millis now, Expiry& out) {
  const std::string& pk = config_.attributes.session_id;
  out = {id, Expiry::Outcome::kGone, 0};
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    const uint64_t version = stamp();
    Item item;
    if (auto e = get_item(config_.sessions_table, pk, id, item)) return e;
    Session s;
    std::string why;
    if (!item.found || !dynamo::session_from_item(item.attrs, config_.attributes, s, why)) {
      out.outcome = Expiry::Outcome::kGone;
      return {};
    }
    const bool expired = s.expires_at > 0 && now >= s.expires_at;
    const bool idle = s.idle_ttl > 0 && now - s.last_active_at >= s.idle_ttl;
    if (!expired && !idle) {
      out.outcome = Expiry::Outcome::kLive;
      out.last_active_at = s.last_active_at;
      return {};
    }
    // Deleted only if nobody changed it since it was read, and (for idling) nobody reported
    // activity since: with several routers sweeping, exactly one deletes.
    json::object values;
    std::string cond = unchanged_condition(item, "#id", values);
    if (!expired) {
      cond += " AND (attribute_not_exists(sg_last_active_at) OR sg_last_active_at <= :last)";
      values[":last"] = N(s.last_active_at);
    }
    json::object req;
    req["TableName"] = config_.sessions_table;
    req["Key"] = dynamo::key_of(pk, id);
    req["ConditionExpression"] = cond;
    req["ExpressionAttributeNames"] = json::object{{"#id", pk}};
    if (!values.empty()) req["ExpressionAttributeValues"] = std::move(values);
    json::object resp;
    aws::DynamoError raw;
    if (auto e = call("DeleteItem", req, resp, &raw)) {
      if (raw.is("ConditionalCheckFailedException")) continue;  // read it again and decide
      return e;
    }
    out.outcome = expired ? Expiry::Outcome::kExpired : Expiry::Outcome::kIdle;
    announce({Change::Kind::kSessionDeleted, id, std::nullopt, std::nullopt, version});
    return {};
  }
  return {conflict("session", id)};
}

StoreError DynamoStore::expire_sessions(const std::vector<std::string>& ids, Millis now,
                                        std::vector<Expiry>& out) {
  for (const auto& id : ids) {
    Expiry x;
    if (auto e = expire_one(id, now, x)) return e;
    out.push_back(std::move(x));
  }
  return {};
}

std::vector<Stat> DynamoStore::stats() const {
  const aws::DynamoCounters& c = client_->counters();
  auto v = [](const std::atomic<uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  std::vector<Stat> out{
      {"dynamodb_calls_total", "DynamoDB requests sent (each attempt counts).", true, v(c.calls)},
      {"dynamodb_retries_total", "DynamoDB attempts after the first of a call.", true,
       v(c.retries)},
      {"dynamodb_throttled_total", "DynamoDB answers that said throttled.", true, v(c.throttled)},
      {"dynamodb_failures_total", "DynamoDB calls that failed after every attempt.", true,
       v(c.failures)},
  };
  for (size_t i = 0; i < aws::kDynamoActionCount; ++i) {
    out.push_back({"dynamodb_requests_total",
                   "DynamoDB calls by operation (a call's retries are not counted again).", true,
                   v(c.by_action[i]), std::string("action=\"") + aws::kDynamoActions[i] + "\""});
  }
  return out;
}

}  // namespace sg::registry
