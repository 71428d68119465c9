#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <vector>

namespace sg::http {

namespace {

H2Session& self(void* user) {
  return *static_cast<H2Session*>(user);
}

H2Stream* stream_of(nghttp2_session* s, int32_t id) {
  return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(s, id));
}

int on_begin_headers(nghttp2_session* s, const nghttp2_frame* f, void* user) {
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  H2Stream* st = self(user).owner().open_stream(f->hd.stream_id);
  if (st == nullptr) {
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  st->id = f->hd.stream_id;
  nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
  return 0;
}

int on_header(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void*) {
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  if (H2Stream* st = stream_of(s, f->hd.stream_id)) {
    st->head.add({reinterpret_cast<const char*>(name), namelen},
                 {reinterpret_cast<const char*>(value), valuelen});
  }
  return 0;  // trailers are not forwarded (HTTP/1.1 upstreams rarely read them)
}

int on_frame_recv(nghttp2_session* s, const nghttp2_frame* f, void* user) {
  H2Session& h = self(user);
  const bool end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (f->hd.type) {
    case NGHTTP2_HEADERS:
      if (H2Stream* st = stream_of(s, f->hd.stream_id)) {
        if (f->headers.cat == NGHTTP2_HCAT_REQUEST) {
          st->on_head(end);
        } else if (end) {
          st->on_end();
        }
      }
      return 0;
    case NGHTTP2_DATA:
      if (end) {
        if (H2Stream* st = stream_of(s, f->hd.stream_id)) st->on_end();
      } else if (f->hd.length == 0) {
        h.spend(false);  // an empty DATA frame carries nothing
      }
      return 0;
    case NGHTTP2_PING:
    case NGHTTP2_SETTINGS:
      if ((f->hd.flags & NGHTTP2_FLAG_ACK) == 0) h.spend(false);
      return 0;
    case NGHTTP2_PRIORITY:
    case NGHTTP2_WINDOW_UPDATE:
      h.spend(false);
      return 0;
    case NGHTTP2_RST_STREAM:
      h.spend(true);
      return 0;
    default:
      return 0;
  }
}

int on_data_chunk(nghttp2_session* s, uint8_t, int32_t id, const uint8_t* data, size_t len, void*) {
  if (H2Stream* st = stream_of(s, id)) {
    st->on_data(data, len);
  } else {
    nghttp2_session_consume_connection(s, len);  // refused or finished: dropped
  }
  return 0;
}

int on_stream_close(nghttp2_session* s, int32_t id, uint32_t code, void*) {
  if (H2Stream* st = stream_of(s, id)) {
    nghttp2_session_set_stream_user_data(s, id, nullptr);
    st->on_close(code);
  }
  return 0;
}

ssize_t on_read(nghttp2_session* s, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                nghttp2_data_source*, void*) {
  // The stream is looked up, not taken from the data source: one its owner has let go of
  // (detach) must never be read from.
  H2Stream* st = stream_of(s, id);
  if (st == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  bool eof = false;
  const size_t n = st->pull(buf, length, eof);
  if (eof) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  } else if (n == 0) {
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

// The callbacks are the same for every session (nghttp2 copies them).
const nghttp2_session_callbacks* callbacks() {
  static nghttp2_session_callbacks* cb = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(c, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
    return c;
  }();
  return cb;
}

}  // namespace

H2Session::H2Session(const H2Settings& s, H2Owner& owner)
    : settings_(s),
      owner_(owner),
      control_{static_cast<double>(s.control_burst), std::chrono::steady_clock::now()},
      resets_{static_cast<double>(s.reset_burst), control_.at} {
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Request bodies are credited back only as the exchange passes them upstream: a container
  // that reads slowly slows the client instead of filling the router (consume()).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, s.max_continuations);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
  // Our own reset bucket counts first (it says why); nghttp2's is the backstop.
  nghttp2_option_set_stream_reset_rate_limit(opt, uint64_t{s.reset_burst} * 2 + 16,
                                             uint64_t{s.reset_rate} * 2 + 1);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_session_server_new2(&session_, callbacks(), this, opt);
  nghttp2_option_del(opt);

  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.stream_window},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, s.header_table_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(s.head.header_bytes)},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, s.connect_protocol ? 1u : 0u},
      // RFC 9218 urgencies (the `priority` field browsers send) instead of the deprecated
      // dependency tree.
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, std::size(entries));
  if (s.connection_window > 65535) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(s.connection_window));
  }
}

H2Session::~H2Session() {
  nghttp2_session_del(session_);
}

bool H2Session::take(Bucket& b, uint32_t burst, uint32_t rate) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  b.at = now;
  b.tokens = std::min<double>(burst, b.tokens + elapsed * rate);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool H2Session::spend(bool reset_frame) {
  if (!alive()) return false;
  if (reset_frame && !take(resets_, settings_.reset_burst, settings_.reset_rate)) {
    flood(H2Flood::kReset);
    return false;
  }
  if (!take(control_, settings_.control_burst, settings_.control_rate)) {
    flood(H2Flood::kControl);
    return false;
  }
  return true;
}

void H2Session::flood(H2Flood kind) {
  if (!alive()) return;
  static constexpr const char* kWhy[] = {"too many control frames", "too many stream resets",
                                         "too many CONTINUATION frames",
                                         "the client reads none of our answers"};
  error_ = kWhy[static_cast<size_t>(kind)];
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  owner_.on_flood(kind);
}

bool H2Session::receive(const char* p, size_t n) {
  if (!alive()) return false;
  const ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(p), n);
  if (rv < 0) {
    if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
      flood(H2Flood::kContinuation);
    } else if (rv == NGHTTP2_ERR_FLOODED) {
      flood(H2Flood::kOutbound);
    } else if (alive()) {
      error_ = nghttp2_strerror(static_cast<int>(rv));
      if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) error_ = "not an HTTP/2 connection preface";
    }
    return false;
  }
  return alive();
}

bool H2Session::send(std::string& out, size_t max) {
  while (out.size() < max) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      if (alive()) error_ = nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return true;
}

bool H2Session::want_read() const {
  return nghttp2_session_want_read(session_) != 0;
}
bool H2Session::want_write() const {
  return nghttp2_session_want_write(session_) != 0;
}

namespace {

// Field names lowercased into `names` (sized once, so the views stay valid), as nghttp2 needs.
void build_nv(int status, std::span<const H2Field> fields, std::string& names, char (&code)[4],
              std::vector<nghttp2_nv>& nv) {
  size_t total = 0;
  for (const H2Field& f : fields) total += f.name.size();
  names.resize(total);
  code[0] = static_cast<char>('0' + (status / 100) % 10);
  code[1] = static_cast<char>('0' + (status / 10) % 10);
  code[2] = static_cast<char>('0' + status % 10);
  code[3] = '\0';
  nv.clear();
  nv.reserve(fields.size() + 1);
  static const char kStatus[] = ":status";
  nv.push_back({const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(kStatus)),
                reinterpret_cast<uint8_t*>(code), sizeof kStatus - 1, 3, NGHTTP2_NV_FLAG_NONE});
  size_t at = 0;
  for (const H2Field& f : fields) {
    char* dst = names.data() + at;
    for (size_t i = 0; i < f.name.size(); ++i) {
      const char c = f.name[i];
      dst[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    nv.push_back({reinterpret_cast<uint8_t*>(dst),
                  const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(f.value.data())),
                  f.name.size(), f.value.size(), NGHTTP2_NV_FLAG_NONE});
    at += f.name.size();
  }
}

}  // namespace

bool H2Session::respond(H2Stream& s, int status, std::span<const H2Field> fields, bool with_body) {
  char code[4];
  thread_local std::vector<nghttp2_nv> nv;
  build_nv(status, fields, nv_names_, code, nv);
  nghttp2_data_provider prd;
  prd.source.ptr = &s;
  prd.read_callback = on_read;
  return nghttp2_submit_response(session_, s.id, nv.data(), nv.size(),
                                 with_body ? &prd : nullptr) == 0;
}

bool H2Session::interim(H2Stream& s, int status, std::span<const H2Field> fields) {
  char code[4];
  thread_local std::vector<nghttp2_nv> nv;
  build_nv(status, fields, nv_names_, code, nv);
  return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, nv.data(), nv.size(),
                                nullptr) >= 0;
}

void H2Session::detach(int32_t id) {
  nghttp2_session_set_stream_user_data(session_, id, nullptr);  // an error if already closed
}

void H2Session::resume(const H2Stream& s) {
  nghttp2_session_resume_data(session_, s.id);
}

void H2Session::reset(int32_t id, uint32_t code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
}

void H2Session::consume(int32_t id, size_t n) {
  if (n > 0) nghttp2_session_consume(session_, id, n);
}

void H2Session::consume_connection(size_t n) {
  if (n > 0) nghttp2_session_consume_connection(session_, n);
}

void H2Session::goaway(uint32_t code) {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), code, nullptr, 0);
}

bool H2Session::stream_open(int32_t id) const {
  return nghttp2_session_find_stream(session_, id) != nullptr;
}

}  // namespace sg::http
