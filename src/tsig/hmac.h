// HMAC (RFC 2104) for the TSIG algorithms, plus the two other crypto
// primitives TSIG needs (constant-time compare, random secrets). Everything
// that touches OpenSSL lives in hmac_openssl.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ddns::tsig {

// RFC 8945 §6 (mandatory and optional algorithms) and RFC 4635.
enum class Algorithm : uint8_t { HmacMd5, HmacSha1, HmacSha224, HmacSha256, HmacSha384, HmacSha512 };

inline constexpr size_t kMaxDigestSize = 64;  // SHA-512

// Output length of the keyed hash in octets (16..64).
size_t digest_size(Algorithm alg);

// An incremental HMAC computation. Movable, not copyable. A failed set-up
// (OpenSSL out of memory, algorithm disabled by policy) makes ok() false,
// and final() then returns 0.
class Hmac {
 public:
  Hmac(Algorithm alg, std::span<const uint8_t> key);
  ~Hmac();
  Hmac(Hmac&& o) noexcept;
  Hmac& operator=(Hmac&& o) noexcept;
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  bool ok() const { return ctx_ != nullptr && !failed_; }
  Algorithm algorithm() const { return alg_; }
  void update(std::span<const uint8_t> data);
  void update(const void* data, size_t n);
  // Writes digest_size() octets to `out` and returns their count (0 on
  // failure). The object is spent afterwards.
  size_t final(uint8_t (&out)[kMaxDigestSize]);

 private:
  void* ctx_ = nullptr;  // EVP_MAC_CTX*
  Algorithm alg_;
  bool failed_ = false;
};

// Compares two MACs in time that depends only on their length; different
// lengths compare unequal.
bool mac_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Fills `out` from the OpenSSL CSPRNG; false on failure.
bool random_bytes(std::span<uint8_t> out);

}  // namespace ddns::tsig
