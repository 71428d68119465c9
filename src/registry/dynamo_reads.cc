// The DynamoDB store's bulk reads: whole tables in parallel Scan segments (the load at start
// and the feed's snapshots and scans) and named items in batches (the feed's revalidation).
#include <algorithm>
#include <boost/json.hpp>
#include <future>

#include "registry/dynamo_items.h"
#include "registry/dynamo_store.h"

namespace sg::registry {

namespace json = boost::json;

namespace {

constexpr size_t kBatch = 100;  // BatchGetItem's limit

}  // namespace

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
  const size_t bad = dynamo::decode(c_items, config_, version, containers) +
                     dynamo::decode(s_items, config_, version, sessions);
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
      if (valid_id(ids[i])) keys.push_back(dynamo::key_of(key_attr, ids[i]));
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
  dynamo::decode(items, config_, version, out);
  return {};
}

StoreError DynamoStore::read_containers(const std::vector<std::string>& ids,
                                        std::vector<Container>& out) {
  const uint64_t version = stamp();
  std::vector<json::object> items;
  if (auto e = batch_read(config_.containers_table, config_.attributes.container_id, ids, items)) {
    return e;
  }
  dynamo::decode(items, config_, version, out);
  return {};
}

}  // namespace sg::registry
