// The one piece of RFC 6455 a proxy must check: that a 101 answers this client's handshake.
#pragma once

#include <string>
#include <string_view>

namespace sg::http {

// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value the upstream must send.
std::string websocket_accept(std::string_view client_key);

}  // namespace sg::http
