// The PROXY protocol (v1 text and v2 binary), as TCP load balancers (AWS NLB, HAProxy, most
// others) put it in front of the client's bytes to say whom they are relaying. Strict: a
// header that is not exactly one of the two forms is refused, never guessed at.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string_view>

namespace sg::net {

enum class ProxyParse : uint8_t { kNeedMore, kDone, kInvalid };

struct ProxyHeader {
  size_t length = 0;  // bytes the header occupies; the client's bytes follow
  // False for v2 LOCAL (the balancer's own health check), v1 UNKNOWN and v2 UNSPEC: the
  // connection's own peer stands.
  bool has_source = false;
  boost::asio::ip::address source;
  uint16_t source_port = 0;
  boost::asio::ip::address destination;
  uint16_t destination_port = 0;
  int version = 0;  // 1 or 2
};

// The longest header accepted: v1's own limit is 107 bytes; v2 is 16 bytes plus the address
// block and TLVs, which balancers keep well under this (AWS adds a VPC endpoint id).
constexpr size_t kProxyHeaderMax = 16 + 1024;

// Parses the start of a connection's bytes. kNeedMore: not enough yet to decide (no byte seen
// so far is wrong); kInvalid: `error` says what is wrong.
ProxyParse parse_proxy_header(std::string_view data, ProxyHeader& out, const char*& error);

}  // namespace sg::net
