#include "registry/dynamo_items.h"

#include <boost/json.hpp>
#include <charconv>

#include "net/address.h"

namespace sg::registry::dynamo {

namespace json = boost::json;

json::object S(std::string_view v) {
  json::object o;
  o["S"] = v;
  return o;
}

json::object key_of(const std::string& attr, const std::string& id) {
  json::object k;
  k[attr] = S(id);
  return k;
}

json::object N(int64_t v) {
  json::object o;
  o["N"] = std::to_string(v);
  return o;
}

bool get_s(const json::object& item, std::string_view name, std::string& out) {
  const json::value* v = item.if_contains(name);
  const json::object* o = v ? v->if_object() : nullptr;
  const json::value* s = o ? o->if_contains("S") : nullptr;
  if (!s || !s->is_string()) return false;
  out = std::string(s->get_string());
  return true;
}

bool get_n(const json::object& item, std::string_view name, int64_t& out) {
  const json::value* v = item.if_contains(name);
  const json::object* o = v ? v->if_object() : nullptr;
  const json::value* n = o ? o->if_contains("N") : nullptr;
  if (!n || !n->is_string()) return false;
  const std::string_view t = n->get_string();
  // Numbers arrive as decimal text; a fraction ("4321.0", epoch seconds with millis) is
  // read by its integer part.
  const std::string_view whole = t.substr(0, t.find('.'));
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), out);
  return ec == std::errc() && end == whole.data() + whole.size() && !whole.empty();
}

uint64_t revision(const json::object& item) {
  int64_t rev = 0;
  return get_n(item, "sg_rev", rev) && rev > 0 ? static_cast<uint64_t>(rev) : 0;
}

namespace {

int64_t n_or(const json::object& item, std::string_view name, int64_t fallback) {
  int64_t v = 0;
  return get_n(item, name, v) ? v : fallback;
}

// "10.0.1.23", "10.0.1.23:4321", "[fd00::1]:4321" or "fd00::1".
bool read_address(const std::string& text, int64_t port, boost::asio::ip::tcp::endpoint& out) {
  if (net::parse_endpoint(text, out)) return true;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(text, ec);
  if (ec || port < 1 || port > 65535) return false;
  out = {ip, static_cast<uint16_t>(port)};
  return true;
}

}  // namespace

bool container_from_item(const json::object& item, const DynamoAttributes& a, uint16_t default_port,
                         Container& out, std::string& why) {
  Container c;
  if (!get_s(item, a.container_id, c.id) || !valid_id(c.id)) {
    why = "a container item without a usable " + a.container_id;
    return false;
  }
  std::string status;
  if (get_s(item, a.container_status, status)) {
    auto st = parse_status(status);
    // A status sessiongate does not know cannot be served: treat the container as down.
    c.status = st ? *st : ContainerStatus::kFailed;
  } else {
    c.status = ContainerStatus::kReady;
  }
  std::string address;
  const int64_t port = n_or(item, a.container_port, default_port);
  if (get_s(item, a.container_address, address) && !address.empty()) {
    if (!read_address(address, port, c.address)) {
      why = "container " + c.id + ": " + a.container_address + " \"" + address.substr(0, 60) +
            "\" is not IP or IP:port";
      return false;
    }
    c.address_text = net::format_endpoint(c.address);
  } else if (c.status == ContainerStatus::kReady) {
    c.status = ContainerStatus::kStarting;  // no address yet: it cannot be ready
  }
  c.generation = static_cast<uint64_t>(n_or(item, "sg_generation", 0));
  c.lease_ttl = n_or(item, "sg_lease_ms", 0);
  c.heartbeat_at = n_or(item, "sg_heartbeat_at", 0);
  if (c.lease_ttl <= 0) {
    c.lease_ttl = kNoLease;
    c.heartbeat_at = 0;
  }
  c.created_at = n_or(item, "sg_created_at", 0);
  c.updated_at = n_or(item, "sg_updated_at", 0);
  out = std::move(c);
  return true;
}

bool session_from_item(const json::object& item, const DynamoAttributes& a, Session& out,
                       std::string& why) {
  Session s;
  if (!get_s(item, a.session_id, s.id) || !valid_id(s.id)) {
    why = "a session item without a usable " + a.session_id;
    return false;
  }
  get_s(item, a.session_container, s.container_id);
  get_s(item, "sg_access", s.access);
  if (s.access != "public" && s.access != "link") s.access.clear();
  s.link_epoch = static_cast<uint64_t>(std::max<int64_t>(0, n_or(item, "sg_link_epoch", 0)));
  std::string labels;
  if (get_s(item, "sg_labels", labels) && !labels_from_json(labels, s.labels)) s.labels.clear();
  s.idle_ttl = std::max<int64_t>(0, n_or(item, "sg_idle_ttl_ms", 0));
  s.sleep_after = n_or(item, "sg_sleep_after_ms", 0);
  // sessiongate writes both; a TTL someone else set counts as the session's end.
  s.expires_at = n_or(item, "sg_expires_at_ms", 0);
  if (s.expires_at == 0) {
    const int64_t ttl = n_or(item, a.expires_at, 0);
    if (ttl > 0 && ttl < int64_t(1) << 40) s.expires_at = ttl * 1000;
  }
  s.last_active_at = n_or(item, "sg_last_active_at", 0);
  s.created_at = n_or(item, "sg_created_at", 0);
  s.updated_at = n_or(item, "sg_updated_at", 0);
  out = std::move(s);
  return true;
}

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

std::string fingerprint(const Container& c) {
  return c.address_text + '|' + std::string(to_string(c.status)) + '|' +
         std::to_string(c.generation) + '|' + std::to_string(c.lease_ttl) + '|' +
         std::to_string(c.heartbeat_at);
}

std::string fingerprint(const Session& s) {
  return s.container_id + '|' + s.access + '|' + std::to_string(s.link_epoch) + '|' +
         std::to_string(s.idle_ttl) + '|' + std::to_string(s.sleep_after) + '|' +
         std::to_string(s.expires_at) + '|' + labels_to_json(s.labels);
}

}  // namespace sg::registry::dynamo
