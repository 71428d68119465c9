#include "registry/redis_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "registry/redis_codec.h"
#include "registry/redis_scripts.h"

namespace sg::registry {

namespace {

constexpr auto kBackoffMin = std::chrono::milliseconds(100);
constexpr auto kBackoffMax = std::chrono::milliseconds(5000);
constexpr size_t kPage = 1000;

struct Script {
  std::string text;
  std::string sha;
};

const Script& script_for(const char* body) {
  static std::mutex mu;
  static std::unordered_map<const char*, Script> cache;
  std::lock_guard lock(mu);
  auto [it, fresh] = cache.try_emplace(body);
  if (fresh) {
    it->second.text = std::string(redis_scripts::kPrelude) + body;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(it->second.text.data()), it->second.text.size(),
         digest);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char b : digest) {
      it->second.sha.push_back(kHex[b >> 4]);
      it->second.sha.push_back(kHex[b & 15]);
    }
  }
  return it->second;
}

std::string error_text(const redisReply* r) {
  return "redis: " + std::string(reply_text(r));
}

// ZRANGEBYLEX bounds: "(" id = strictly after, "-" = from the start.
std::string after_bound(const std::string& after) {
  return after.empty() ? std::string("-") : "(" + after;
}

}  // namespace

RedisStore::RedisStore(RedisEndpoint endpoint, std::string prefix, size_t connections)
    : endpoint_(std::move(endpoint)),
      prefix_(std::move(prefix)),
      max_connections_(std::max<size_t>(1, connections)) {}

RedisStore::Lease RedisStore::lease() {
  std::unique_lock lock(pool_mu_);
  freed_.wait(lock, [this] { return !idle_.empty() || created_ < max_connections_; });
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(c));
  }
  ++created_;
  return Lease(*this, std::make_unique<RedisConnection>(endpoint_, "sessiongate-store"));
}

void RedisStore::give_back(std::unique_ptr<RedisConnection> c) {
  std::lock_guard lock(pool_mu_);
  idle_.push_back(std::move(c));
  freed_.notify_one();
}

StoreError RedisStore::io_error(const RedisConnection& c, const std::string& what) {
  std::lock_guard lock(state_mu_);
  last_error_ = what;
  if (c.timed_out()) {
    // A store that stops answering (hung, overloaded, partitioned) would make every call wait
    // out the timeout; until one succeeds, calls fail fast between attempts instead.
    // The first pause is as long as the timeout itself: a store that did not answer in that
    // time is not asked again sooner.
    const std::chrono::milliseconds floor{endpoint_.command_timeout_ms};
    backoff_ = std::min(std::max(backoff_ * 2, std::max(floor, kBackoffMin)), kBackoffMax);
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    return {"redis timeout: " + what, true};
  }
  backoff_ = kBackoffMin;
  retry_at_ = std::chrono::steady_clock::now();  // the next call may reconnect at once
  return {"redis unavailable: " + what};
}

StoreError RedisStore::ready(RedisConnection& c) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(state_mu_);
    if (now < retry_at_) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
      return {"redis unavailable: " + last_error_ + " (next attempt in " +
              std::to_string(wait.count()) + " ms)"};
    }
  }
  if (c.connected()) {
    if (c.idle_alive()) return {};
    c.close();  // closed while idle (e.g. Redis restarted): reconnect before writing
  }
  std::string err;
  if (c.connect(err)) {
    std::lock_guard lock(state_mu_);
    backoff_ = std::chrono::milliseconds(0);
    return {};
  }
  std::lock_guard lock(state_mu_);
  last_error_ = err;
  backoff_ = backoff_.count() == 0 ? kBackoffMin : std::min(backoff_ * 2, kBackoffMax);
  retry_at_ = now + backoff_;
  return {"redis unavailable: " + err, c.timed_out()};
}

StoreError RedisStore::run(RedisConnection& c, const char* body, std::vector<std::string_view> args,
                           Reply& reply) {
  if (auto e = ready(c)) return e;
  const Script& s = script_for(body);
  args.insert(args.begin(), {"EVALSHA", s.sha, "0", prefix_});
  std::string err;
  reply = c.command(args, err);
  if (!reply) return io_error(c, err);
  if (reply->type == REDIS_REPLY_ERROR && reply_text(reply.get()).starts_with("NOSCRIPT")) {
    // Script cache empty (Redis restarted or SCRIPT FLUSH): send the text once.
    args[0] = "EVAL";
    args[1] = s.text;
    reply = c.command(args, err);
    if (!reply) return io_error(c, err);
  }
  if (reply->type == REDIS_REPLY_ERROR) return {error_text(reply.get())};
  succeeded();
  return {};
}

void RedisStore::succeeded() {
  std::lock_guard lock(state_mu_);
  backoff_ = std::chrono::milliseconds(0);
}

StoreError RedisStore::announce_message(const redisReply* r, Change* out) {
  std::string err;
  auto change = decode_change(reply_text(r), err);
  if (!change) return {"redis: unexpected script result: " + err};
  announce(*change);
  if (out) *out = std::move(*change);
  return {};
}

StoreError RedisStore::put_container(Container& c) {
  Lease conn = lease();
  const std::string lease = std::to_string(c.lease_ttl);
  const std::string now = std::to_string(now_ms());
  Reply r;
  if (auto e = run(*conn, redis_scripts::kPutContainer,
                   {c.id, c.address_text, to_string(c.status), lease, now}, r)) {
    return e;
  }
  Change ch;
  if (auto e = announce_message(r.get(), &ch)) return e;
  c = *ch.container;
  return {};
}

StoreError RedisStore::heartbeat(const std::string& id, Millis now, Container& out, bool& found) {
  Lease conn = lease();
  const std::string at = std::to_string(now);
  Reply r;
  if (auto e = run(*conn, redis_scripts::kHeartbeat, {id, at}, r)) return e;
  found = r->type != REDIS_REPLY_NIL;
  if (!found) return {};
  Change ch;
  if (auto e = announce_message(r.get(), &ch)) return e;
  out = *ch.container;
  return {};
}

StoreError RedisStore::delete_container(const std::string& id, bool& found) {
  return delete_record(redis_scripts::kDeleteContainer, id, found);
}

StoreError RedisStore::delete_record(const char* script, const std::string& id, bool& found) {
  Lease conn = lease();
  Reply r;
  if (auto e = run(*conn, script, {id}, r)) return e;
  found = r->type != REDIS_REPLY_NIL;
  return found ? announce_message(r.get(), nullptr) : StoreError{};
}

StoreError RedisStore::put_session(Session& s) {
  Lease conn = lease();
  std::string index;
  for (const auto& [k, v] : s.labels) {
    if (!index.empty()) index.push_back(' ');
    index += label_index_suffix(k, v);
  }
  const std::string labels = labels_to_json(s.labels);
  const std::string idle = std::to_string(s.idle_ttl);
  const std::string expires = std::to_string(s.expires_at);
  const std::string epoch = std::to_string(s.link_epoch);
  const std::string now = std::to_string(now_ms());
  const std::string sleep = std::to_string(s.sleep_after);
  Reply r;
  if (auto e = run(
          *conn, redis_scripts::kPutSession,
          {s.id, s.container_id, labels, idle, expires, s.access, epoch, now, index, sleep}, r)) {
    return e;
  }
  Change ch;
  if (auto e = announce_message(r.get(), &ch)) return e;
  s = *ch.session;
  return {};
}

StoreError RedisStore::delete_session(const std::string& id, bool& found) {
  return delete_record(redis_scripts::kDeleteSession, id, found);
}

StoreError RedisStore::touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) {
  Lease conn = lease();
  // Batches of kPage: one script call never holds Redis for long, whatever the batch size.
  for (size_t from = 0; from < seen.size(); from += kPage) {
    const size_t to = std::min(seen.size(), from + kPage);
    std::vector<std::string> times;
    times.reserve(to - from);
    std::vector<std::string_view> args;
    args.reserve(2 * (to - from));
    for (size_t i = from; i < to; ++i) times.push_back(std::to_string(seen[i].second));
    for (size_t i = from; i < to; ++i) {
      args.push_back(seen[i].first);
      args.push_back(times[i - from]);
    }
    Reply r;
    if (auto e = run(*conn, redis_scripts::kTouch, std::move(args), r)) return e;
  }
  return {};
}

StoreError RedisStore::expire_sessions(const std::vector<std::string>& ids, Millis now,
                                       std::vector<Expiry>& out) {
  Lease conn = lease();
  const std::string at = std::to_string(now);
  for (size_t from = 0; from < ids.size(); from += kPage) {
    const size_t to = std::min(ids.size(), from + kPage);
    std::vector<std::string_view> args{at};
    for (size_t i = from; i < to; ++i) args.push_back(ids[i]);
    Reply r;
    if (auto e = run(*conn, redis_scripts::kExpire, std::move(args), r)) return e;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != to - from) {
      return {"redis: unexpected expire result"};
    }
    for (size_t i = from; i < to; ++i) {
      const redisReply* e = r->element[i - from];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) {
        return {"redis: unexpected expire item"};
      }
      const std::string_view what = reply_text(e->element[0]);
      Expiry x{ids[i], Expiry::Outcome::kGone, 0};
      if (what == "live") {
        x.outcome = Expiry::Outcome::kLive;
        const std::string_view t = reply_text(e->element[1]);
        std::from_chars(t.data(), t.data() + t.size(), x.last_active_at);
      } else if (what == "idle" || what == "expired") {
        x.outcome = what == "idle" ? Expiry::Outcome::kIdle : Expiry::Outcome::kExpired;
        if (auto err = announce_message(e->element[1], nullptr)) return err;
      }
      out.push_back(std::move(x));
    }
  }
  return {};
}

StoreError RedisStore::get_container(const std::string& id, std::optional<Container>& out) {
  Lease conn = lease();
  if (auto e = ready(*conn)) return e;
  std::string err;
  Reply r = conn->command({"HGETALL", prefix_ + "c:" + id}, err);
  if (!r) return io_error(*conn, err);
  if (r->type == REDIS_REPLY_ERROR) return {error_text(r.get())};
  out.reset();
  if (r->elements == 0) return {};
  Container c;
  if (!container_from_fields(id, fields_of(r.get()), c))
    return {"redis: container " + id + " is corrupt"};
  out = std::move(c);
  return {};
}

StoreError RedisStore::list_containers(std::vector<Container>& out) {
  Lease conn = lease();
  if (auto e = ready(*conn)) return e;
  if (auto e = read_index(*conn, prefix_, 'c', &out, nullptr)) return io_error(*conn, e.message);
  return {};
}

StoreError RedisStore::fetch_sessions(RedisConnection& c, const std::vector<std::string>& ids,
                                      std::vector<Session>& out) {
  std::string err;
  for (const auto& id : ids) c.append({"HGETALL", prefix_ + "s:" + id});
  for (const auto& id : ids) {
    Reply r = c.read(err);
    if (!r) return io_error(c, err);
    Session s;
    // Gone between the index read and this one: skip it, as a later read would.
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        session_from_fields(id, fields_of(r.get()), s)) {
      out.push_back(std::move(s));
    }
  }
  return {};
}

StoreError RedisStore::get_session(const std::string& id, std::optional<Session>& out) {
  Lease conn = lease();
  if (auto e = ready(*conn)) return e;
  std::vector<Session> found;
  if (auto e = fetch_sessions(*conn, {id}, found)) return e;
  out.reset();
  if (!found.empty()) out = std::move(found.front());
  return {};
}

StoreError RedisStore::list_sessions(const SessionQuery& q, std::vector<Session>& out) {
  Lease conn = lease();
  if (auto e = ready(*conn)) return e;
  const std::string index = q.label_key.empty()
                                ? prefix_ + "sessions"
                                : prefix_ + "l:" + label_index_suffix(q.label_key, q.label_value);
  std::string after = q.after;
  std::string err;
  // The index may name a session deleted a moment ago; read pages until `limit` are found.
  while (out.size() < q.limit) {
    const std::string count = std::to_string(q.limit - out.size());
    Reply ids =
        conn->command({"ZRANGEBYLEX", index, after_bound(after), "+", "LIMIT", "0", count}, err);
    if (!ids) return io_error(*conn, err);
    if (ids->type != REDIS_REPLY_ARRAY) return {error_text(ids.get())};
    if (ids->elements == 0) break;
    std::vector<std::string> page;
    for (size_t i = 0; i < ids->elements; ++i) page.emplace_back(reply_text(ids->element[i]));
    after = page.back();
    if (auto e = fetch_sessions(*conn, page, out)) return e;
  }
  return {};
}

StoreError RedisStore::load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                                uint64_t& version) {
  Lease conn = lease();
  if (auto e = ready(*conn)) return e;
  if (auto e = load_from(*conn, prefix_, containers, sessions, version)) {
    return io_error(*conn, e.message);
  }
  return {};
}

StoreError RedisStore::load_from(RedisConnection& conn, const std::string& prefix,
                                 std::vector<Container>& containers, std::vector<Session>& sessions,
                                 uint64_t& version, std::string* epoch) {
  if (auto e = read_version(conn, prefix, version, epoch)) return e;
  if (auto e = read_index(conn, prefix, 'c', &containers, nullptr)) return e;
  return read_index(conn, prefix, 's', nullptr, &sessions);
}

StoreError RedisStore::read_version(RedisConnection& conn, const std::string& prefix,
                                    uint64_t& version, std::string* epoch) {
  std::string err;
  Reply r = conn.command({"MGET", prefix + "version", prefix + "epoch"}, err);
  if (!r) return {err};
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
    return {"reading " + prefix + "version: " + error_text(r.get())};
  }
  const redisReply* v = r->element[0];
  version = 0;  // no key yet: nothing was ever written
  if (epoch) epoch->clear();
  if (r->element[1]->type == REDIS_REPLY_STRING && epoch) *epoch = reply_text(r->element[1]);
  if (v->type == REDIS_REPLY_NIL) return {};
  // Anything but a number is an error, never "version 0": that would read as a store that
  // went back in time, or hide changes behind a version the store never had.
  if (v->type != REDIS_REPLY_STRING) return {"reading " + prefix + "version: " + error_text(v)};
  const std::string_view t = reply_text(v);
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), version);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return {"reading " + prefix + "version: not a number: " + std::string(t.substr(0, 40))};
  }
  return {};
}

StoreError RedisStore::read_index(RedisConnection& conn, const std::string& prefix, char kind,
                                  std::vector<Container>* containers,
                                  std::vector<Session>* sessions) {
  const std::string index = prefix + (kind == 'c' ? "containers" : "sessions");
  std::string err;
  std::string after;
  for (;;) {
    Reply ids = conn.command(
        {"ZRANGEBYLEX", index, after_bound(after), "+", "LIMIT", "0", std::to_string(kPage)}, err);
    if (!ids) return {err};
    if (ids->type != REDIS_REPLY_ARRAY) return {error_text(ids.get())};
    if (ids->elements == 0) break;
    for (size_t i = 0; i < ids->elements; ++i) {
      conn.append({"HGETALL", prefix + kind + ":" + std::string(reply_text(ids->element[i]))});
    }
    for (size_t i = 0; i < ids->elements; ++i) {
      Reply r = conn.read(err);
      if (!r) return {err};
      // A refused read is an error: skipping it would make the snapshot delete the record.
      if (r->type == REDIS_REPLY_ERROR) return {error_text(r.get())};
      // Deleted between the index page and this read: skip it, as a later read would. A
      // record that does not decode is skipped too (it cannot be routed); writes replace it.
      if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) continue;
      const std::string_view id = reply_text(ids->element[i]);
      if (containers) {
        Container c;
        if (container_from_fields(id, fields_of(r.get()), c)) containers->push_back(std::move(c));
      } else {
        Session s;
        if (session_from_fields(id, fields_of(r.get()), s)) sessions->push_back(std::move(s));
      }
    }
    after = std::string(reply_text(ids->element[ids->elements - 1]));
    if (ids->elements < kPage) break;
  }
  return {};
}

StoreError RedisStore::acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                                     Millis, bool& acquired) {
  Lease conn = lease();
  if (auto e = ready(*conn)) return e;
  std::string err;
  // Redis expires the key itself: its clock decides, so routers' clocks need not agree.
  Reply r = conn->command(
      {"SET", prefix_ + "lease:" + name, owner, "NX", "PX", std::to_string(ttl)}, err);
  if (!r) return io_error(*conn, err);
  if (r->type == REDIS_REPLY_ERROR) return {"redis: " + std::string(r->str, r->len)};
  acquired = r->type == REDIS_REPLY_STATUS;  // OK; nil when an owner holds it
  if (acquired) return {};
  // Ours already (a wake soon after the last one, a sleep soon after a wake): renewed. Only
  // this router writes its own owner value, so the check and the renewal need no script.
  r = conn->command({"GET", prefix_ + "lease:" + name}, err);
  if (!r) return io_error(*conn, err);
  if (r->type != REDIS_REPLY_STRING || std::string_view(r->str, r->len) != owner) return {};
  r = conn->command({"SET", prefix_ + "lease:" + name, owner, "XX", "PX", std::to_string(ttl)},
                    err);
  if (!r) return io_error(*conn, err);
  acquired = r->type == REDIS_REPLY_STATUS;
  return {};
}

StoreError RedisStore::release_lease(const std::string& name, const std::string& owner) {
  Lease conn = lease();
  Reply r;
  return run(*conn, redis_scripts::kReleaseLease, {name, owner}, r);
}

bool RedisStore::ping() {
  Lease conn = lease();
  if (ready(*conn)) return false;
  std::string err;
  Reply r = conn->command({"PING"}, err);
  if (!r) {
    io_error(*conn, err);
    return false;
  }
  return r->type == REDIS_REPLY_STATUS;
}

}  // namespace sg::registry
