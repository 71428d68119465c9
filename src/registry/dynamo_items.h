// DynamoDB items <-> registry records, for the platform's own tables: the attribute names
// are the configured ones, values are DynamoDB's typed JSON ({"S": ...}, {"N": ...}). An item
// written by a container with only its address and status reads as a ready container with no
// lease (it never expires by heartbeat); sessiongate's own fields are extra "sg_" attributes.
// Pure functions: the store and its feed share them, the fuzz target reads through them.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registry/records.h"
#include "registry/store_config.h"

namespace sg::registry::dynamo {

// A lease on a name lives in the sessions table under a key no session id can have.
inline constexpr std::string_view kLeasePrefix = "sessiongate:lease:";
// Containers without a lease (written by something that does not heartbeat) never expire.
inline constexpr Millis kNoLease = Millis(100) * 365 * 24 * 3600 * 1000;

boost::json::object S(std::string_view v);
// The key of item `id` in a table keyed by `attr`.
boost::json::object key_of(const std::string& attr, const std::string& id);
boost::json::object N(int64_t v);
// Typed reads; false when the attribute is absent or of another type (or not a number).
bool get_s(const boost::json::object& item, std::string_view name, std::string& out);
bool get_n(const boost::json::object& item, std::string_view name, int64_t& out);

// The item's sg_rev (0 when sessiongate never wrote it): the version conditional writes check.
uint64_t revision(const boost::json::object& item);

// False with `why` for an item that cannot be a record (no key, a key that is not an id,
// an address that is not IP[:port]); the caller skips it.
bool container_from_item(const boost::json::object& item, const DynamoAttributes& a,
                         uint16_t default_port, Container& out, std::string& why);
bool session_from_item(const boost::json::object& item, const DynamoAttributes& a, Session& out,
                       std::string& why);

// Items to records stamped `version`; returns how many could not be records. Wake-lease
// items in the sessions table are left out (they are not sessions, nor unreadable).
size_t decode(const std::vector<boost::json::object>& items, const DynamoConfig& c,
              uint64_t version, std::vector<Container>& out);
size_t decode(const std::vector<boost::json::object>& items, const DynamoConfig& c,
              uint64_t version, std::vector<Session>& out);

// What a feed compares to tell whether an item changed in a way routes care about.
std::string fingerprint(const Container& c);
std::string fingerprint(const Session& s);

}  // namespace sg::registry::dynamo
