// What the DynamoDB store reads from the network: an item of the platform's tables (written
// by anything), an error answer, a credentials endpoint's answer. Any input is read or
// refused with a reason, and what is read satisfies the records' invariants.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "registry/dynamo_items.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sg;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const aws::DynamoError e = aws::parse_dynamo_error(400, text);
  if (e.type.empty() || e.message.empty() || e.message.size() > 300) std::abort();
  aws::Credentials c;
  std::string why;
  if (aws::parse_credential_json(text, c, why) == c.empty()) std::abort();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return 0;
  const registry::DynamoAttributes a;
  registry::Container ct;
  why.clear();
  if (registry::dynamo::container_from_item(v.as_object(), a, 4321, ct, why)) {
    if (!registry::valid_id(ct.id) || ct.lease_ttl <= 0) std::abort();
    if (ct.status == registry::ContainerStatus::kReady && ct.address_text.empty()) std::abort();
  } else if (why.empty()) {
    std::abort();
  }
  registry::Session s;
  why.clear();
  if (registry::dynamo::session_from_item(v.as_object(), a, s, why)) {
    if (!registry::valid_id(s.id) || s.idle_ttl < 0) std::abort();
    if (!s.access.empty() && s.access != "public" && s.access != "link") std::abort();
  } else if (why.empty()) {
    std::abort();
  }
  return 0;
}
