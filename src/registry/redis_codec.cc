#include "registry/redis_codec.h"

#include <boost/json.hpp>
#include <charconv>

#include "net/address.h"

namespace sg::registry {

namespace {

std::optional<std::string_view> field(const FieldMap& f, std::string_view name) {
  for (const auto& [k, v] : f) {
    if (k == name) return v;
  }
  return std::nullopt;
}

template <typename T>
bool number(const FieldMap& f, std::string_view name, T& out) {
  auto v = field(f, name);
  if (!v) return false;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  return ec == std::errc() && p == v->data() + v->size();
}

bool text(const FieldMap& f, std::string_view name, std::string& out) {
  auto v = field(f, name);
  if (!v) return false;
  out.assign(*v);
  return true;
}

}  // namespace

FieldMap fields_of(const redisReply* r) {
  FieldMap out;
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return out;
  out.reserve(r->elements / 2);
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    out.emplace_back(reply_text(r->element[i]), reply_text(r->element[i + 1]));
  }
  return out;
}

bool container_from_fields(std::string_view id, const FieldMap& f, Container& c) {
  c.id.assign(id);
  std::string status;
  if (!text(f, "address", c.address_text) || !net::parse_endpoint(c.address_text, c.address)) {
    return false;
  }
  if (!text(f, "status", status)) return false;
  auto st = parse_status(status);
  if (!st) return false;
  c.status = *st;
  return number(f, "generation", c.generation) && number(f, "lease_ttl", c.lease_ttl) &&
         number(f, "heartbeat_at", c.heartbeat_at) && number(f, "created_at", c.created_at) &&
         number(f, "updated_at", c.updated_at) && number(f, "version", c.version);
}

bool session_from_fields(std::string_view id, const FieldMap& f, Session& s) {
  s.id.assign(id);
  std::string labels;
  if (!text(f, "container_id", s.container_id) || !text(f, "labels", labels) ||
      !text(f, "access", s.access)) {
    return false;
  }
  if (!labels_from_json(labels, s.labels)) return false;
  // Written since schema 4; a record written before has none (the router's default).
  if (field(f, "sleep_after") && !number(f, "sleep_after", s.sleep_after)) return false;
  return number(f, "idle_ttl", s.idle_ttl) && number(f, "expires_at", s.expires_at) &&
         number(f, "last_active_at", s.last_active_at) && number(f, "created_at", s.created_at) &&
         number(f, "updated_at", s.updated_at) && number(f, "version", s.version) &&
         number(f, "link_epoch", s.link_epoch);
}

std::optional<Change> decode_change(std::string_view message, std::string& error) {
  boost::system::error_code ec;
  auto v = boost::json::parse(message, ec);
  if (ec || !v.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto& o = v.as_object();
  const auto* ver = o.if_contains("v");
  const auto* kind = o.if_contains("k");
  const auto* id = o.if_contains("id");
  if (!ver || !ver->is_string() || !kind || !kind->is_string() || !id || !id->is_string()) {
    error = "missing v, k or id";
    return std::nullopt;
  }
  Change c;
  const auto& vs = ver->as_string();
  auto [p, perr] = std::from_chars(vs.data(), vs.data() + vs.size(), c.version);
  if (perr != std::errc() || p != vs.data() + vs.size() || c.version == 0) {
    error = "bad version";
    return std::nullopt;
  }
  c.id = std::string(id->as_string());
  if (!valid_id(c.id)) {
    error = "bad id";
    return std::nullopt;
  }
  FieldMap f;
  if (const auto* fo = o.if_contains("f"); fo && fo->is_object()) {
    for (const auto& kv : fo->as_object()) {
      if (kv.value().is_string())
        f.emplace_back(kv.key(), std::string_view(kv.value().as_string()));
    }
  }
  const std::string_view k = kind->as_string();
  if (k == "c") {
    c.kind = Change::Kind::kContainerPut;
    Container ct;
    if (!container_from_fields(c.id, f, ct)) {
      error = "bad container fields";
      return std::nullopt;
    }
    c.container = std::move(ct);
  } else if (k == "s") {
    c.kind = Change::Kind::kSessionPut;
    Session s;
    if (!session_from_fields(c.id, f, s)) {
      error = "bad session fields";
      return std::nullopt;
    }
    c.session = std::move(s);
  } else if (k == "cd") {
    c.kind = Change::Kind::kContainerDeleted;
  } else if (k == "sd") {
    c.kind = Change::Kind::kSessionDeleted;
  } else {
    error = "unknown kind";
    return std::nullopt;
  }
  return c;
}

std::string label_index_suffix(std::string_view key, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * (key.size() + value.size()) + 1);
  auto hex = [&](std::string_view s) {
    for (unsigned char ch : s) {
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  };
  hex(key);
  out.push_back('=');
  hex(value);
  return out;
}

}  // namespace sg::registry
