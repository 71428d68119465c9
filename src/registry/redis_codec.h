// How registry records look inside Redis: one hash per record, every value a decimal or text
// string. The same field names travel in change messages, so one decoder serves loads, reads
// and the change feed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/redis_connection.h"
#include "registry/store.h"

namespace sg::registry {

using FieldMap = std::vector<std::pair<std::string_view, std::string_view>>;

// Field/value pairs of an HGETALL reply (views into the reply).
FieldMap fields_of(const redisReply* hgetall);

// False when a required field is missing or not a number: the record is corrupt.
bool container_from_fields(std::string_view id, const FieldMap& f, Container& out);
bool session_from_fields(std::string_view id, const FieldMap& f, Session& out);

// A change message as the write scripts publish it:
//   {"v":"<version>","k":"c|cd|s|sd","id":"<id>","f":{<fields>}}
// nullopt with `error` when it is not one.
std::optional<Change> decode_change(std::string_view message, std::string& error);

// Label index key suffix: hex(key) "=" hex(value), so any bytes in a label are safe in a key.
std::string label_index_suffix(std::string_view key, std::string_view value);

}  // namespace sg::registry
