// A bounded byte buffer with a read and a write position. Storage is allocated on first use
// and can be released while idle, so an idle connection holds no buffer memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sg {

class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::string_view data() const { return {data_.get() + begin_, end_ - begin_}; }
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
      std::memmove(data_.get(), data_.get() + begin_, size());
      end_ -= begin_;
      begin_ = 0;
    }
    if (cap_ - end_ < min || cap_ == 0) {
      size_t want = std::max(cap_ * 2, end_ + min);
      want = std::min(std::max(want, min), max_total);
      if (want > cap_) {
        std::unique_ptr<char[]> next(new char[want]);
        if (size() > 0) std::memcpy(next.get(), data_.get() + begin_, size());
        end_ -= begin_;
        begin_ = 0;
        data_ = std::move(next);
        cap_ = want;
      }
    }
    size_t room = std::min(cap_ - end_, max_total - size());
    return {data_.get() + end_, room};
  }
  void commit(size_t n) { end_ += n; }

  // Frees the storage when nothing is buffered.
  void release_if_empty() {
    if (empty() && data_) {
      data_.reset();
      cap_ = begin_ = end_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sg
