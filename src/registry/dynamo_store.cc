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
constexpr size_t kBatch = 100;     // BatchGetItem's limit
// Activity older than this no longer counts as "in use" for revalidation.
constexpr Millis kUsedWindowMs = 10 * 60 * 1000;

json::object key_of(const std::string& attr, const std::string& id) {
  json::object k;
  k[attr] = S(id);
  return k;
}

std::string conflict(const char* what, const std::string& id) {
  return "dynamodb: " + std::string(what) + " " + id + " was changed by another writer " +
         std::to_string(kWriteAttempts) + " times while this write was retried; try again";
}

std::string ip_text(const boost::asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string();
}

// Items to records stamped `version`; returns how many could not be records (skipped).
size_t decode(const std::vector<json::object>& items, const DynamoConfig& c, uint64_t version,
              std::vector<Container>& out) {
  size_t bad = 0;
  for (const auto& item : items) {
    Container x;
    std::string why;
    if (!dynamo::container_from_item(item, c.attributes, c.default_port, x, why)) {
      ++bad;
      continue;
    }
    x.version = version;
    out.push_back(std::move(x));
  }
  return bad;
}

size_t decode(const std::vector<json::object>& items, const DynamoConfig& c, uint64_t version,
              std::vector<Session>& out) {
  size_t bad = 0;
  for (const auto& item : items) {
    std::string key;
    if (dynamo::get_s(item, c.attributes.session_id, key) &&
        key.starts_with(dynamo::kLeasePrefix)) {
      continue;  // a wake lease, not a session
    }
    Session x;
    std::string why;
    if (!dynamo::session_from_item(item, c.attributes, x, why)) {
      ++bad;
      continue;
    }
    x.version = version;
    out.push_back(std::move(x));
  }
  return bad;
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
  req["Key"] = key_of(key_attr, id);
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
    req["Key"] = key_of(a.container_id, c.id);
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
  req["Key"] = key_of(a.container_id, id);
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
  req["Key"] = key_of(key_attr, id);
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
  decode(items, config_, version, out);
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
    req["Key"] = key_of(a.session_id, s.id);
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
  const std::string& pk = config_.attributes.session_id;
  for (const auto& [id, at] : seen) {
    if (!valid_id(id)) continue;
    json::object req;
    req["TableName"] = config_.sessions_table;
    req["Key"] = key_of(pk, id);
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
    req["Key"] = key_of(pk, id);
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

StoreError DynamoStore::acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                                      Millis now, bool& acquired) {
  const std::string& pk = config_.attributes.session_id;
  json::object item = key_of(pk, std::string(dynamo::kLeasePrefix) + name);
  item["sg_lease_owner"] = S(owner);
  item["sg_lease_until"] = N(now + ttl);
  item[config_.attributes.expires_at] = N((now + ttl) / 1000 + 3600);  // DynamoDB cleans up
  json::object req;
  req["TableName"] = config_.sessions_table;
  req["Item"] = std::move(item);
  req["ConditionExpression"] =
      "attribute_not_exists(#id) OR sg_lease_until <= :now OR sg_lease_owner = :owner";
  req["ExpressionAttributeNames"] = json::object{{"#id", pk}};
  req["ExpressionAttributeValues"] = json::object{{":now", N(now)}, {":owner", S(owner)}};
  json::object resp;
  aws::DynamoError raw;
  acquired = false;
  if (auto e = call("PutItem", req, resp, &raw)) {
    return raw.is("ConditionalCheckFailedException") ? StoreError{} : e;
  }
  acquired = true;
  return {};
}

bool DynamoStore::ping() {
  json::object req;
  req["TableName"] = config_.sessions_table;
  req["Key"] = key_of(config_.attributes.session_id, std::string(dynamo::kLeasePrefix) + "ping");
  json::object resp;
  return !call("GetItem", req, resp);
}

StoreError DynamoStore::scan_table(const std::string& table, std::vector<json::object>& items) {
  const int segments = std::max(1, config_.scan_segments);
  std::vector<std::future<StoreError>> parts;
  std::vector<std::vector<json::object>> found(static_cast<size_t>(segments));
  for (int seg = 0; seg < segments; ++seg) {
    parts.push_back(std::async(std::launch::async, [this, &table, &found, seg, segments] {
      json::object start;
      do {
        json::object req;
        req["TableName"] = table;
        req["ConsistentRead"] = true;
        if (segments > 1) {
          req["Segment"] = seg;
          req["TotalSegments"] = segments;
        }
        if (!start.empty()) req["ExclusiveStartKey"] = start;
        json::object resp;
        if (auto e = call("Scan", req, resp)) return e;
        if (const json::value* list = resp.if_contains("Items"); list && list->is_array()) {
          for (const auto& v : list->as_array()) {
            if (v.is_object()) found[static_cast<size_t>(seg)].push_back(v.as_object());
          }
        }
        const json::value* next = resp.if_contains("LastEvaluatedKey");
        start = next && next->is_object() ? next->as_object() : json::object();
      } while (!start.empty());
      return StoreError{};
    }));
  }
  StoreError first;
  for (auto& p : parts) {
    StoreError e = p.get();
    if (e && !first) first = e;
  }
  if (first) return first;
  for (auto& part : found) {
    for (auto& item : part) items.push_back(std::move(item));
  }
  return {};
}

StoreError DynamoStore::scan(std::vector<Container>& containers, std::vector<Session>& sessions,
                             uint64_t& version, size_t* skipped) {
  version = stamp();
  std::vector<json::object> c_items, s_items;
  auto c_part =
      std::async(std::launch::async, [&] { return scan_table(config_.containers_table, c_items); });
  StoreError se = scan_table(config_.sessions_table, s_items);
  StoreError ce = c_part.get();
  if (ce) return ce;
  if (se) return se;
  const size_t bad =
      decode(c_items, config_, version, containers) + decode(s_items, config_, version, sessions);
  if (skipped) *skipped = bad;
  std::sort(containers.begin(), containers.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  std::sort(sessions.begin(), sessions.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  return {};
}

StoreError DynamoStore::load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                                 uint64_t& version) {
  // The version of the newest write so far: a load right after a write reports that write's.
  const uint64_t before = clock_.load(std::memory_order_relaxed);
  uint64_t stamped = 0;
  if (auto e = scan(containers, sessions, stamped)) return e;
  for (auto& c : containers) c.version = before;
  for (auto& s : sessions) s.version = before;
  version = before;
  return {};
}

StoreError DynamoStore::batch_read(const std::string& table, const std::string& key_attr,
                                   const std::vector<std::string>& ids,
                                   std::vector<json::object>& items) {
  for (size_t from = 0; from < ids.size(); from += kBatch) {
    json::array keys;
    for (size_t i = from; i < std::min(ids.size(), from + kBatch); ++i) {
      if (valid_id(ids[i])) keys.push_back(key_of(key_attr, ids[i]));
    }
    // Keys DynamoDB did not get to (throttling, 16 MB answers) come back unprocessed and are
    // asked for again, with the client's backoff between attempts.
    for (int round = 0; !keys.empty(); ++round) {
      if (round == 8) return {"dynamodb: BatchGetItem left keys unprocessed 8 times in a row"};
      json::object req{
          {"RequestItems",
           json::object{{table, json::object{{"Keys", keys}, {"ConsistentRead", true}}}}}};
      json::object resp;
      if (auto e = call("BatchGetItem", req, resp)) return e;
      const json::value* got = resp.if_contains("Responses");
      const json::value* list =
          got && got->is_object() ? got->as_object().if_contains(table) : nullptr;
      if (list && list->is_array()) {
        for (const auto& v : list->as_array()) {
          if (v.is_object()) items.push_back(v.as_object());
        }
      }
      keys.clear();
      const json::value* left = resp.if_contains("UnprocessedKeys");
      const json::value* mine =
          left && left->is_object() ? left->as_object().if_contains(table) : nullptr;
      const json::value* more =
          mine && mine->is_object() ? mine->as_object().if_contains("Keys") : nullptr;
      if (more && more->is_array()) keys = more->as_array();
    }
  }
  return {};
}

StoreError DynamoStore::read_sessions(const std::vector<std::string>& ids,
                                      std::vector<Session>& out) {
  const uint64_t version = stamp();
  std::vector<json::object> items;
  if (auto e = batch_read(config_.sessions_table, config_.attributes.session_id, ids, items)) {
    return e;
  }
  decode(items, config_, version, out);
  return {};
}

StoreError DynamoStore::read_containers(const std::vector<std::string>& ids,
                                        std::vector<Container>& out) {
  const uint64_t version = stamp();
  std::vector<json::object> items;
  if (auto e = batch_read(config_.containers_table, config_.attributes.container_id, ids, items)) {
    return e;
  }
  decode(items, config_, version, out);
  return {};
}

}  // namespace sg::registry
