// The one place where a failure becomes a status code and a page.
#pragma once

#include "common/error.h"
#include "http/pages.h"
#include "http/status.h"

namespace sg::proxy {

http::Page error_page(const Error& e);
Error error_from_parse(const http::ParseError& e);

}  // namespace sg::proxy
