// Bounds-checked big-endian byte reader and writer. The reader's first error
// sticks, so a caller reads many fields and checks ok() once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace ddns {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(std::span<const uint8_t> s) : data_(s.data()), size_(s.size()) {}

  bool ok() const { return !failed_; }
  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return failed_ ? 0 : size_ - pos_; }
  const uint8_t* data() const { return data_; }
  const uint8_t* cursor() const { return data_ + pos_; }

  void fail() { failed_ = true; }
  // Moves to an absolute offset (used for compression pointers).
  void seek(size_t pos) {
    if (pos > size_) failed_ = true; else pos_ = pos;
  }
  void skip(size_t n) {
    if (!need(n)) return;
    pos_ += n;
  }
  uint8_t u8() {
    if (!need(1)) return 0;
    return data_[pos_++];
  }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = uint32_t(data_[pos_]) << 24 | uint32_t(data_[pos_ + 1]) << 16 |
                 uint32_t(data_[pos_ + 2]) << 8 | uint32_t(data_[pos_ + 3]);
    pos_ += 4;
    return v;
  }
  // Returns a view of the next n bytes, or an empty span (and fails).
  std::span<const uint8_t> bytes(size_t n) {
    if (!need(n)) return {};
    std::span<const uint8_t> s(data_ + pos_, n);
    pos_ += n;
    return s;
  }

 private:
  bool need(size_t n) {
    if (failed_ || size_ - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Writes into a caller-owned buffer of fixed capacity; overflow sticks like
// the reader's errors (the caller checks ok() once, and may roll back to a
// mark with truncate()).
class ByteWriter {
 public:
  ByteWriter(uint8_t* buf, size_t cap) : buf_(buf), cap_(cap) {}

  bool ok() const { return !failed_; }
  size_t size() const { return pos_; }
  size_t capacity() const { return cap_; }
  size_t remaining() const { return cap_ - pos_; }
  uint8_t* data() { return buf_; }
  const uint8_t* data() const { return buf_; }
  // Rolls back to an earlier size and clears an overflow.
  void truncate(size_t size) { pos_ = size; failed_ = false; }
  // Shrinks the capacity (e.g. to the client's UDP size).
  void set_capacity(size_t cap) { if (cap < cap_) cap_ = cap; }

  void u8(uint8_t v) {
    if (!need(1)) return;
    buf_[pos_++] = v;
  }
  void u16(uint16_t v) {
    if (!need(2)) return;
    buf_[pos_] = uint8_t(v >> 8);
    buf_[pos_ + 1] = uint8_t(v);
    pos_ += 2;
  }
  void u32(uint32_t v) {
    if (!need(4)) return;
    buf_[pos_] = uint8_t(v >> 24);
    buf_[pos_ + 1] = uint8_t(v >> 16);
    buf_[pos_ + 2] = uint8_t(v >> 8);
    buf_[pos_ + 3] = uint8_t(v);
    pos_ += 4;
  }
  void bytes(const void* p, size_t n) {
    if (!need(n)) return;
    if (n) std::memcpy(buf_ + pos_, p, n);
    pos_ += n;
  }
  void bytes(std::span<const uint8_t> s) { bytes(s.data(), s.size()); }
  // Overwrites a u16 already written at `at` (section counts, RDLENGTH).
  void patch_u16(size_t at, uint16_t v) {
    buf_[at] = uint8_t(v >> 8);
    buf_[at + 1] = uint8_t(v);
  }

 private:
  bool need(size_t n) {
    if (failed_ || cap_ - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  uint8_t* buf_;
  size_t cap_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace ddns
