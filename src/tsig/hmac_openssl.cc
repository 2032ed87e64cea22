// The only OpenSSL user of the tsig layer: HMAC through the OpenSSL 3
// EVP_MAC interface, CRYPTO_memcmp and RAND_bytes.
#include "tsig/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <utility>

namespace ddns::tsig {
namespace {

const char* digest_name(Algorithm alg) {
  switch (alg) {
    case Algorithm::HmacMd5: return "MD5";
    case Algorithm::HmacSha1: return "SHA1";
    case Algorithm::HmacSha224: return "SHA224";
    case Algorithm::HmacSha256: return "SHA256";
    case Algorithm::HmacSha384: return "SHA384";
    case Algorithm::HmacSha512: return "SHA512";
  }
  return "SHA256";
}

// Fetching an algorithm walks OpenSSL's provider tables; do it once.
EVP_MAC* hmac_method() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

EVP_MAC_CTX* ctx_of(void* p) { return static_cast<EVP_MAC_CTX*>(p); }

}  // namespace

size_t digest_size(Algorithm alg) {
  switch (alg) {
    case Algorithm::HmacMd5: return 16;
    case Algorithm::HmacSha1: return 20;
    case Algorithm::HmacSha224: return 28;
    case Algorithm::HmacSha256: return 32;
    case Algorithm::HmacSha384: return 48;
    case Algorithm::HmacSha512: return 64;
  }
  return 32;
}

Hmac::Hmac(Algorithm alg, std::span<const uint8_t> key) : alg_(alg) {
  EVP_MAC* mac = hmac_method();
  if (!mac) return;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (!ctx) return;
  OSSL_PARAM params[2];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                               const_cast<char*>(digest_name(alg)), 0);
  params[1] = OSSL_PARAM_construct_end();
  // HMAC pads the key with zeros to the block size, so an empty key equals
  // a single zero octet; OpenSSL refuses a zero-length key.
  static const uint8_t kZero = 0;
  const uint8_t* k = key.empty() ? &kZero : key.data();
  size_t klen = key.empty() ? 1 : key.size();
  if (EVP_MAC_init(ctx, k, klen, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return;
  }
  ctx_ = ctx;
}

Hmac::~Hmac() { EVP_MAC_CTX_free(ctx_of(ctx_)); }

Hmac::Hmac(Hmac&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)), alg_(o.alg_), failed_(o.failed_) {}

Hmac& Hmac::operator=(Hmac&& o) noexcept {
  if (this != &o) {
    EVP_MAC_CTX_free(ctx_of(ctx_));
    ctx_ = std::exchange(o.ctx_, nullptr);
    alg_ = o.alg_;
    failed_ = o.failed_;
  }
  return *this;
}

void Hmac::update(const void* data, size_t n) {
  if (!ok() || n == 0) return;
  if (EVP_MAC_update(ctx_of(ctx_), static_cast<const unsigned char*>(data), n) != 1) failed_ = true;
}

void Hmac::update(std::span<const uint8_t> data) { update(data.data(), data.size()); }

size_t Hmac::final(uint8_t (&out)[kMaxDigestSize]) {
  if (!ok()) return 0;
  size_t n = 0;
  int rc = EVP_MAC_final(ctx_of(ctx_), out, &n, kMaxDigestSize);
  failed_ = true;  // spent
  if (rc != 1 || n != digest_size(alg_)) return 0;
  return n;
}

bool mac_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool random_bytes(std::span<uint8_t> out) {
  if (out.empty()) return true;
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

}  // namespace ddns::tsig
