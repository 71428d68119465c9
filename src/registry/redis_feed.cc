#include "registry/redis_feed.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "registry/redis_codec.h"
#include "registry/redis_store.h"

namespace sg::registry {

namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

RedisFeed::RedisFeed(RedisEndpoint endpoint, std::string prefix, Handlers handlers,
                     int64_t check_interval_ms)
    : endpoint_(std::move(endpoint)),
      prefix_(std::move(prefix)),
      handlers_(std::move(handlers)),
      check_interval_ms_(check_interval_ms),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

RedisFeed::~RedisFeed() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void RedisFeed::start() {
  thread_ = std::thread([this] { run(); });
}

void RedisFeed::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
}

int RedisFeed::wait(int fd, int64_t ms) {
  pollfd p[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  const int n = ::poll(p, fd >= 0 ? 2 : 1, static_cast<int>(std::max<int64_t>(ms, 0)));
  if (stopping_ || (n > 0 && (p[0].revents & POLLIN))) return -1;
  return n > 0 && p[1].revents ? 1 : 0;
}

void RedisFeed::run() {
  int64_t backoff = 0;
  while (!stopping_) {
    std::string error;
    const auto began = Clock::now();
    follow(error);
    if (stopping_) break;
    if (up_ || backoff == 0) handlers_.state(false, error);
    up_ = false;
    // A connection that stayed up a while starts the backoff over.
    backoff = ms_since(began) > 5000 || backoff == 0 ? 100 : std::min<int64_t>(backoff * 2, 5000);
    if (wait(-1, backoff) < 0) break;
  }
}

bool RedisFeed::new_history(const std::string& epoch, uint64_t version) const {
  if (epoch == epoch_) return false;
  // An empty store we have followed since before its first write gets its epoch with that
  // write: the same history, as long as its version did not go back.
  return !(fresh_ && version >= last_);
}

bool RedisFeed::resync(RedisConnection& cmd, std::string reason, std::string& error) {
  const auto began = Clock::now();
  Snapshot snap;
  if (auto e = RedisStore::load_from(cmd, prefix_, snap.containers, snap.sessions, snap.version,
                                     &snap.epoch)) {
    error = "snapshot: " + e.message;
    return false;
  }
  snap.reason = std::move(reason);
  snap.took_ms = ms_since(began);
  // A new history (restarted empty, flushed, replaced) or one that went back (an older
  // backup, a lagging replica): what we hold cannot be compared by version any more.
  snap.reset = synced_ && (new_history(snap.epoch, snap.version) || snap.version < last_);
  snap.previous_epoch = epoch_;
  epoch_ = snap.epoch;
  fresh_ = snap.epoch.empty() && snap.version == 0;
  last_ = snap.version;
  handlers_.snapshot(std::move(snap));
  return true;
}

void RedisFeed::follow(std::string& error) {
  RedisConnection sub(endpoint_, "sessiongate-feed");
  RedisConnection cmd(endpoint_, "sessiongate-feed-read");
  if (!sub.connect(error) || !cmd.connect(error)) return;
  const std::string channel = prefix_ + "changes";
  Reply ok = sub.command({"SUBSCRIBE", channel}, error);
  if (!ok) return;
  if (ok->type != REDIS_REPLY_ARRAY) {
    error = "SUBSCRIBE refused: " + std::string(reply_text(ok.get()));
    return;
  }
  // Subscribed first, snapshot second: every change after the snapshot's version arrives
  // on the subscription.
  if (!resync(cmd, synced_ ? "reconnect" : "connect", error)) return;
  synced_ = true;
  up_ = true;
  handlers_.state(true, "");

  uint64_t suspect = 0;  // a version the store had at the last check that we had not seen
  auto next_check = Clock::now() + std::chrono::milliseconds(check_interval_ms_);
  redisContext* ctx = sub.raw();
  while (!stopping_) {
    const int64_t until_check =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_check - Clock::now()).count();
    const int w = wait(ctx->fd, until_check);
    if (w < 0) return;
    if (w > 0) {
      if (redisBufferRead(ctx) != REDIS_OK) {
        error = ctx->errstr[0] ? ctx->errstr : "subscription closed";
        return;
      }
      void* raw = nullptr;
      while (redisGetReplyFromReader(ctx, &raw) == REDIS_OK && raw != nullptr) {
        Reply r(static_cast<redisReply*>(raw));
        raw = nullptr;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
            reply_text(r->element[0]) != "message") {
          continue;
        }
        std::string why;
        auto change = decode_change(reply_text(r->element[2]), why);
        if (!change) {
          // Something we cannot read was published on our channel: we cannot know what it
          // changed, so read everything again.
          if (!resync(cmd, "undecodable change message (" + why + ")", error)) return;
          continue;
        }
        if (change->version <= last_) continue;  // already in the snapshot
        if (change->version != last_ + 1) {
          if (!resync(cmd,
                      "gap: expected version " + std::to_string(last_ + 1) + ", got " +
                          std::to_string(change->version),
                      error)) {
            return;
          }
          continue;
        }
        last_ = change->version;
        handlers_.change(std::move(*change));
      }
      if (ctx->err) {
        error = ctx->errstr;
        return;
      }
    }
    if (Clock::now() < next_check) continue;
    next_check = Clock::now() + std::chrono::milliseconds(check_interval_ms_);
    // The version check: catches a lost last message (no later message would reveal the gap)
    // and a store that went back in time (restarted without its data, failed over).
    uint64_t now_version = 0;
    std::string now_epoch;
    if (auto e = RedisStore::read_version(cmd, prefix_, now_version, &now_epoch)) {
      error = e.message;
      return;
    }
    std::string reason;
    if (now_version < last_) {
      reason = "store version went back from " + std::to_string(last_) + " to " +
               std::to_string(now_version);
    } else if (new_history(now_epoch, now_version)) {
      reason = "store epoch changed from \"" + epoch_ + "\" to \"" + now_epoch + "\"";
    } else if (suspect != 0 && last_ < suspect) {
      reason = "version " + std::to_string(suspect) + " never arrived";
    } else if (now_epoch != epoch_) {
      epoch_ = now_epoch;  // the first write of the empty store we followed from the start
      fresh_ = false;
    }
    suspect = now_version > last_ ? now_version : 0;
    if (!reason.empty()) {
      suspect = 0;
      if (!resync(cmd, reason, error)) return;
    }
  }
}

}  // namespace sg::registry
