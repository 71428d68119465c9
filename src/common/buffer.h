// A bounded byte buffer with a read and a write position. Storage is allocated on first use
// and can be released while idle, so an idle connection holds no buffer memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sg {

// A per-thread cache of standard-size blocks: a busy connection takes and returns a buffer on
// every request, and the cache turns that malloc/free pair into two vector operations. Bounded,
// so idle memory stays small (at most kCached blocks per thread).
class BlockCache {
 public:
  static constexpr size_t kBlock = 16384;
  static constexpr size_t kCached = 256;
  static char* take() {
    auto& c = cache();
    if (c.empty()) return new char[kBlock];
    char* b = c.back();
    c.pop_back();
    return b;
  }
  static void give(char* b) {
    auto& c = cache();
    if (c.size() >= kCached) {
      delete[] b;
      return;
    }
    c.push_back(b);
  }

 private:
  struct Cache {
    std::vector<char*> blocks;
    ~Cache() {
      for (char* b : blocks) delete[] b;
    }
  };
  static std::vector<char*>& cache() {
    thread_local Cache c;
    return c.blocks;
  }
};

class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { free_storage(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::string_view data() const { return {data_ + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return cap_; }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Room to write at least `min` and at most `max_total - size()` bytes, compacting or
  // growing as needed. Returns an empty span when the buffer is already `max_total` full.
  std::pair<char*, size_t> prepare(size_t min, size_t max_total) {
    if (size() >= max_total) return {nullptr, 0};
    if (cap_ - end_ < min && begin_ > 0) {
      std::memmove(data_, data_ + begin_, size());
      end_ -= begin_;
      begin_ = 0;
    }
    if (cap_ - end_ < min || cap_ == 0) {
      size_t want = std::max(cap_ * 2, end_ + min);
      want = std::min(std::max(want, min), max_total);
      if (want > cap_) {
        // The first allocation of a small buffer comes from the per-thread block cache.
        if (cap_ == 0 && want <= BlockCache::kBlock) want = BlockCache::kBlock;
        char* next = want == BlockCache::kBlock ? BlockCache::take() : new char[want];
        if (size() > 0) std::memcpy(next, data_ + begin_, size());
        end_ -= begin_;
        begin_ = 0;
        free_storage();
        data_ = next;
        cap_ = want;
      }
    }
    size_t room = std::min(cap_ - end_, max_total - size());
    return {data_ + end_, room};
  }
  void commit(size_t n) { end_ += n; }

  // Frees the storage when nothing is buffered.
  void release_if_empty() {
    if (empty() && data_) {
      free_storage();
      cap_ = begin_ = end_ = 0;
    }
  }

 private:
  void free_storage() {
    if (!data_) return;
    if (cap_ == BlockCache::kBlock) {
      BlockCache::give(data_);
    } else {
      delete[] data_;
    }
    data_ = nullptr;
  }

  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sg
