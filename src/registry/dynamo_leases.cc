// The DynamoDB store's leases (items "sessiongate:lease:<name>" in the sessions table: conditional
// writes decide the owner; DynamoDB's TTL removes the ones nobody released) and its health probe.
#include <boost/json.hpp>

#include "registry/dynamo_items.h"
#include "registry/dynamo_store.h"

namespace sg::registry {

namespace json = boost::json;
using dynamo::N;
using dynamo::S;

StoreError DynamoStore::acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                                      Millis now, bool& acquired) {
  const std::string& pk = config_.attributes.session_id;
  json::object item = dynamo::key_of(pk, std::string(dynamo::kLeasePrefix) + name);
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

StoreError DynamoStore::release_lease(const std::string& name, const std::string& owner) {
  json::object req;
  req["TableName"] = config_.sessions_table;
  req["Key"] =
      dynamo::key_of(config_.attributes.session_id, std::string(dynamo::kLeasePrefix) + name);
  req["ConditionExpression"] = "sg_lease_owner = :owner";
  req["ExpressionAttributeValues"] = json::object{{":owner", S(owner)}};
  json::object resp;
  aws::DynamoError raw;
  if (auto e = call("DeleteItem", req, resp, &raw)) {
    return raw.is("ConditionalCheckFailedException") ? StoreError{} : e;  // not ours, or gone
  }
  return {};
}

bool DynamoStore::ping() {
  json::object req;
  req["TableName"] = config_.sessions_table;
  req["Key"] =
      dynamo::key_of(config_.attributes.session_id, std::string(dynamo::kLeasePrefix) + "ping");
  json::object resp;
  return !call("GetItem", req, resp);
}

}  // namespace sg::registry
