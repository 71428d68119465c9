// A bounded byte buffer with a read and a write position. Storage is allocated on first use
// and can be released while idle, so an idle connection holds no buffer memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include <sys/mman.h>

namespace sg {

// A per-thread cache of standard-size blocks: a busy connection takes and returns a buffer on
// every request, and the cache turns that malloc/free pair into two vector operations. Bounded
// (kCached blocks per thread), and trimmed: blocks that sat unused through a whole trim period
// give their pages back to the kernel (they stay cached; the next use faults them in), so a
// burst of traffic does not leave its buffers resident once connections go idle.
class BlockCache {
 public:
  static constexpr size_t kBlock = 16384;
  static constexpr size_t kCached = 256;
  static char* take() {
    Cache& c = cache();
    if (c.blocks.empty()) return alloc();
    char* b = c.blocks.back();
    c.blocks.pop_back();
    c.low_water = std::min(c.low_water, c.blocks.size());
    c.cold = std::min(c.cold, c.blocks.size());
    return b;
  }
  static void give(char* b) {
    Cache& c = cache();
    if (c.blocks.size() >= kCached) {
      std::free(b);
      return;
    }
    c.blocks.push_back(b);
  }
  // Called periodically by the thread that owns the cache. Returns how many blocks' pages
  // were released.
  static size_t trim() {
    Cache& c = cache();
    // The bottom `low_water` blocks were not taken since the last call.
    size_t released = 0;
    for (size_t i = c.cold; i < c.low_water; ++i) {
      if (::madvise(c.blocks[i], kBlock, MADV_DONTNEED) == 0) ++released;
    }
    c.cold = std::max(c.cold, c.low_water);
    c.low_water = c.blocks.size();
    return released;
  }
  // Cached blocks whose pages are resident (for tests).
  static size_t warm() { return cache().blocks.size() - cache().cold; }

 private:
  static char* alloc() {
    // Page-aligned, so trimming releases exactly the block's own pages.
    void* p = std::aligned_alloc(4096, kBlock);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<char*>(p);
  }
  struct Cache {
    std::vector<char*> blocks;  // [0, cold): pages released; the back is the most recent
    size_t cold = 0;
    size_t low_water = 0;  // fewest blocks held since the last trim
    ~Cache() {
      for (char* b : blocks) std::free(b);
    }
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
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

  // Room for a streaming read of a body or a close-delimited stream: one cached block at first,
  // doubling up to `max_total` while reads fill all the room they are given. A small body
  // keeps to one block; a bulk transfer moves in fewer, larger reads and writes (and larger
  // TCP segments), which on loopback costs about half the CPU per byte (docs/performance.md).
  std::pair<char*, size_t> prepare_stream(size_t max_total) {
    const size_t want = std::min(max_total, std::max(BlockCache::kBlock, stream_step_));
    return prepare(want, max_total);
  }
  // Commits a streaming read of `got` bytes into `offered` bytes of room.
  void commit_stream(size_t got, size_t offered) {
    commit(got);
    if (got == offered) stream_step_ = std::max(BlockCache::kBlock, cap_) * 2;
  }

  // Frees the storage when nothing is buffered.
  void release_if_empty() {
    if (empty() && data_) {
      free_storage();
      cap_ = begin_ = end_ = 0;
      stream_step_ = 0;
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
  size_t stream_step_ = 0;  // room the next prepare_stream asks for
};

}  // namespace sg
