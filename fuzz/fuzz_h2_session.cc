// The HTTP/2 codec integration: the connection preface, then arbitrary bytes (frames in any
// order, split at arbitrary points) into H2Session, with streams that behave like the proxy's:
// a completed head is mapped to HTTP/1.1 and parsed strictly, answered with a small body, and
// its request body is credited back. Nothing may crash or leak; every stream the codec opens
// is closed by it or still open when the connection ends; a stream never gets a head event
// twice, and a head the mapping accepts is one the HTTP/1.1 parser accepts too (or refuses
// with a status, never silently).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "http/h2_session.h"
#include "http/parser.h"

namespace {

using namespace sg::http;

class Stream final : public H2Stream {
 public:
  Stream(H2Session*& s, const H2HeadLimits& l) : H2Stream(l), session_(s) {}
  void on_head(bool end_stream) override {
    if (head_seen_) std::abort();
    head_seen_ = true;
    std::string text;
    const H2HeadStatus st = head.finish(!end_stream, "dGhlIHNhbXBsZSBub25jZQ==", text);
    int status = 400;
    if (st == H2HeadStatus::kOk) {
      RequestHead req;
      const ParseResult r = parse_request(text, {8192, 33792, 108}, req);
      if (r.state == ParseState::kIncomplete) std::abort();  // a finished head is whole
      status = r.state == ParseState::kComplete ? 200 : r.error.status;
      if (status == 0) std::abort();
    }
    body_ = "answer " + std::to_string(status);
    const H2Field fields[] = {{"Content-Type", "text/plain"}};
    session_->respond(*this, status, fields, true);
  }
  void on_data(const uint8_t*, size_t n) override {
    if (!head_seen_) std::abort();
    session_->consume(id, n);
  }
  void on_end() override {}
  void on_close(uint32_t) override { closed = true; }
  size_t pull(uint8_t* buf, size_t n, bool& eof) override {
    const size_t take = std::min(n, body_.size());
    std::copy_n(body_.data(), take, buf);
    body_.erase(0, take);
    eof = body_.empty();
    return take;
  }
  bool closed = false;

 private:
  H2Session*& session_;
  std::string body_;
  bool head_seen_ = false;
};

class Owner final : public H2Owner {
 public:
  H2Stream* open_stream(int32_t id) override {
    if (streams.size() >= 64) return nullptr;
    auto s = std::make_unique<Stream>(session, settings.head);
    Stream* p = s.get();
    streams[id] = std::move(s);
    return p;
  }
  void on_flood(H2Flood) override {}
  H2Settings settings;
  H2Session* session = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Owner owner;
  owner.settings.max_concurrent_streams = 16;
  owner.settings.head = {4096, 32};
  owner.settings.control_burst = 64;
  owner.settings.reset_burst = 16;
  {
    H2Session session(owner.settings, owner);
    owner.session = &session;
    static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    std::string out;
    bool ok = session.receive(kPreface, sizeof kPreface - 1);
    // The first byte chooses the read size, so frames arrive split at varied points.
    const size_t step = size > 0 ? 1 + data[0] % 64 : 1;
    for (size_t at = size > 0 ? 1 : 0; ok && at < size; at += step) {
      const size_t n = std::min(step, size - at);
      ok = session.receive(reinterpret_cast<const char*>(data + at), n);
      out.clear();
      if (!session.send(out, 1 << 20)) break;
    }
    out.clear();
    session.send(out, 1 << 20);
    if (out.size() > (1 << 20) + 65536) std::abort();  // one batch is bounded
  }
  return 0;
}
