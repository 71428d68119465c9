#include "net/address_policy.h"

namespace sg::net {

namespace {

using boost::asio::ip::address;

address unmapped(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

// The category of a special-purpose address, or nullptr for an ordinary one.
const char* special(const address& a) {
  if (a.is_unspecified()) return "an unspecified address";
  if (a.is_loopback()) return "a loopback address";
  if (a.is_multicast()) return "a multicast address";
  if (a.is_v4()) {
    const uint32_t v = a.to_v4().to_uint();
    if ((v >> 24) == 0) return "a 'this network' address (0.0.0.0/8)";
    if ((v >> 16) == 0xa9fe) return "a link-local address (169.254.0.0/16, cloud metadata)";
    if (v == 0xffffffffu) return "the broadcast address";
    return nullptr;
  }
  const auto v6 = a.to_v6();
  if (v6.is_link_local()) return "a link-local address (fe80::/10)";
  if (v6.is_site_local()) return "a deprecated site-local address (fec0::/10)";
  return nullptr;
}

}  // namespace

AddressPolicy::AddressPolicy(std::vector<Cidr> allow,
                             std::vector<boost::asio::ip::tcp::endpoint> own)
    : allow_(std::move(allow)), own_(std::move(own)) {}

bool AddressPolicy::allowed_explicitly(const address& a) const {
  for (const auto& c : allow_) {
    if (cidr_contains(c, a)) return true;
  }
  return false;
}

std::string AddressPolicy::check(const boost::asio::ip::tcp::endpoint& ep) const {
  const address a = unmapped(ep.address());
  for (const auto& own : own_) {
    const address o = unmapped(own.address());
    const bool same_host = o == a || (o.is_unspecified() && (a.is_loopback() || special(a)));
    if (own.port() == ep.port() && same_host) {
      return a.to_string() + ":" + std::to_string(ep.port()) +
             " is one of this router's own listeners";
    }
  }
  const bool listed = allowed_explicitly(a);
  if (const char* kind = special(a); kind && !listed) {
    return a.to_string() + " is " + kind +
           ", denied unless security.upstream_allow_cidrs names it explicitly";
  }
  if (!allow_.empty() && !listed) {
    std::string list;
    for (const auto& c : allow_) list += (list.empty() ? "" : ", ") + c.text;
    return a.to_string() + " is outside security.upstream_allow_cidrs (" + list + ")";
  }
  return {};
}

}  // namespace sg::net
