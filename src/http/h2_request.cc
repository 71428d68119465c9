#include "http/h2_request.h"

#include "http/message.h"

namespace sg::http {

void H2RequestHead::reset() {
  for (std::string* s :
       {&method_, &scheme_, &authority_, &path_, &protocol_, &host_, &fields_, &cookie_}) {
    s->clear();
  }
  bytes_ = count_ = 0;
  has_host_ = has_length_ = chunked_ = websocket_ = false;
  status_ = H2HeadStatus::kOk;
  reason_ = "";
}

void H2RequestHead::add(std::string_view name, std::string_view value) {
  // Counted even after a failure: the limit is on what the client sent.
  bytes_ += name.size() + value.size() + 32;
  ++count_;
  if (bytes_ > limits_.header_bytes) fail(H2HeadStatus::kTooLarge, "request header list too large");
  if (count_ > limits_.header_fields) fail(H2HeadStatus::kTooLarge, "too many header fields");
  if (status_ != H2HeadStatus::kOk) return;
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") {
      method_ = value;
    } else if (name == ":scheme") {
      scheme_ = value;
    } else if (name == ":authority") {
      authority_ = value;
    } else if (name == ":path") {
      path_ = value;
    } else if (name == ":protocol") {
      protocol_ = value;
    } else {
      fail(H2HeadStatus::kBad, "unknown pseudo-header");
    }
    return;
  }
  if (name == "cookie") {
    if (!cookie_.empty()) cookie_ += "; ";
    cookie_ += value;
    return;
  }
  if (name == "host") {
    if (has_host_) {
      fail(H2HeadStatus::kBad, "more than one Host field");
      return;
    }
    has_host_ = true;
    host_ = value;
    return;  // written once, from :authority or itself
  }
  if (name == "content-length") has_length_ = true;
  fields_.append(name).append(": ").append(value).append("\r\n");
}

bool H2RequestHead::wants_websocket() const {
  return method_ == "CONNECT" && iequals(protocol_, "websocket");
}

H2HeadStatus H2RequestHead::finish(bool body_follows, std::string_view websocket_key,
                                   std::string& out) {
  if (status_ != H2HeadStatus::kOk) return status_;
  if (!authority_.empty() && has_host_ && !iequals(authority_, host_)) {
    return fail(H2HeadStatus::kBad, "Host does not match :authority");
  }
  const std::string& host = authority_.empty() ? host_ : authority_;
  if (host.empty()) return fail(H2HeadStatus::kBad, "request has neither :authority nor Host");
  if (method_ == "CONNECT") {
    if (protocol_.empty()) return fail(H2HeadStatus::kNotImplemented, "CONNECT is not supported");
    if (!iequals(protocol_, "websocket")) {
      return fail(H2HeadStatus::kNotImplemented, "extended CONNECT supports only websocket");
    }
    websocket_ = true;
  } else if (!protocol_.empty()) {
    return fail(H2HeadStatus::kBad, ":protocol is only for an extended CONNECT");
  }
  out.clear();
  out.reserve(method_.size() + path_.size() + host.size() + fields_.size() + cookie_.size() + 128);
  out.append(websocket_ ? std::string_view("GET") : std::string_view(method_))
      .append(" ")
      .append(path_)
      .append(" HTTP/1.1\r\nhost: ")
      .append(host)
      .append("\r\n")
      .append(fields_);
  if (!cookie_.empty()) out.append("cookie: ").append(cookie_).append("\r\n");
  if (websocket_) {
    out.append("connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: ")
        .append(websocket_key)
        .append("\r\n");
  } else if (body_follows && !has_length_) {
    // DATA frames until END_STREAM: the length is unknown, so HTTP/1.1 carries it chunked.
    out.append("transfer-encoding: chunked\r\n");
    chunked_ = true;
  }
  out.append("\r\n");
  return H2HeadStatus::kOk;
}

}  // namespace sg::http
