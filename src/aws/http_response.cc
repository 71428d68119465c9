// Reading one HTTP/1.1 response (head, then a Content-Length, chunked or close-delimited
// body), bounded in size and by the call's deadline.
#include "aws/http_client.h"
#include "aws/http_detail.h"

namespace sg::aws {

using namespace detail;

HttpFailure HttpConnection::read_response(HttpResponse& resp, int64_t deadline_ms,
                                          bool& keep_alive) {
  size_t head_end;
  while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (in_.size() > kMaxHead) return {"response head longer than 64 KiB"};
    size_t got = 0;
    if (auto f = read_some(deadline_ms, got)) return f;
    if (got == 0) return {in_.empty() ? "connection closed before a response" : "truncated head"};
  }
  std::string_view head(in_.data(), head_end);
  const size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
    return {"not an HTTP/1.x response: " + std::string(status_line.substr(0, 40))};
  }
  size_t status = 0;
  if (!parse_size(status_line.substr(9, 3), status) || status < 100 || status > 599) {
    return {"bad status line: " + std::string(status_line.substr(0, 40))};
  }
  resp = {};
  resp.status = static_cast<int>(status);
  keep_alive = status_line.starts_with("HTTP/1.1");
  std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
  while (!rest.empty()) {
    const size_t e = rest.find("\r\n");
    const std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return {"malformed header line: " + std::string(line.substr(0, 40))};
    }
    resp.headers.emplace_back(lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  const std::string connection = lower(resp.header("connection"));
  if (connection == "close") keep_alive = false;
  if (connection == "keep-alive") keep_alive = true;
  in_.erase(0, head_end + 4);
  const bool chunked = lower(resp.header("transfer-encoding")).find("chunked") != std::string::npos;
  const std::string_view length_text = resp.header("content-length");
  if (chunked) {
    // Decoded in place as chunks complete; extensions and trailers are read and dropped.
    for (;;) {
      size_t line_end;
      while ((line_end = in_.find("\r\n")) == std::string::npos) {
        if (in_.size() > 1024) return {"chunk size line too long"};
        size_t got = 0;
        if (auto f = read_some(deadline_ms, got)) return f;
        if (got == 0) return {"truncated chunked body"};
      }
      std::string_view size_text = std::string_view(in_).substr(0, line_end);
      size_text = size_text.substr(0, size_text.find(';'));
      size_t size = 0;
      if (!parse_size(trim(size_text), size, 16)) return {"bad chunk size"};
      if (resp.body.size() + size > kMaxBody) return {"response body over 64 MiB"};
      if (size == 0) {
        in_.erase(0, line_end + 2);
        // No trailers: one empty line. Trailers: lines up to an empty one.
        for (;;) {
          if (in_.starts_with("\r\n")) {
            in_.erase(0, 2);
            return {};
          }
          if (const size_t end = in_.find("\r\n\r\n"); end != std::string::npos) {
            in_.erase(0, end + 4);
            return {};
          }
          if (in_.size() > kMaxHead) return {"trailers too long"};
          size_t got = 0;
          if (auto f = read_some(deadline_ms, got)) return f;
          if (got == 0) return {"truncated chunked trailers"};
        }
      }
      const size_t need = line_end + 2 + size + 2;
      while (in_.size() < need) {
        size_t got = 0;
        if (auto f = read_some(deadline_ms, got)) return f;
        if (got == 0) return {"truncated chunk"};
      }
      resp.body.append(in_, line_end + 2, size);
      in_.erase(0, need);
    }
  }
  if (!length_text.empty()) {
    size_t length = 0;
    if (!parse_size(length_text, length)) return {"bad content-length"};
    if (length > kMaxBody) return {"response body over 64 MiB"};
    while (in_.size() < length) {
      size_t got = 0;
      if (auto f = read_some(deadline_ms, got)) return f;
      if (got == 0) return {"truncated body"};
    }
    resp.body.assign(in_, 0, length);
    in_.erase(0, length);
    return {};
  }
  if (status == 204 || status == 304 || status < 200) return {};
  keep_alive = false;  // the body runs to the end of the connection
  for (;;) {
    size_t got = 0;
    if (auto f = read_some(deadline_ms, got)) return f;
    if (got == 0) break;
    if (in_.size() > kMaxBody) return {"response body over 64 MiB"};
  }
  resp.body = std::move(in_);
  in_.clear();
  return {};
}

}  // namespace sg::aws
