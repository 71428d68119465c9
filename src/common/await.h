// How the data path awaits: every operation completes with its error as a value (EOF, reset
// and timeout are ordinary results; nothing on the data path throws).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sg {

inline constexpr auto kUse = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace sg
