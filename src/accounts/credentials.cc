// Argon2id password hashes, random secrets and their SHA-256 stored form.
#include "accounts/credentials.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>
#include <utility>

namespace ddns::accounts {

namespace {

// OWASP's Argon2id minimum (m=19 MiB, t=2, p=1); salt and tag as RFC 9106
// §3.1 recommends (16 and 32 bytes).
constexpr uint32_t kArgonT = 2;
constexpr uint32_t kArgonM = 19456;  // KiB
constexpr uint32_t kArgonP = 1;
constexpr size_t kSaltLen = 16;
constexpr size_t kTagLen = 32;
constexpr size_t kSecretBytes = 32;  // tokens and session ids: 256 bits

}  // namespace

// SHA-256 over the concatenated parts into out[32]. The digest is fetched
// once and each thread keeps its context: the implicit fetch of EVP_Digest
// cost more than the hash itself on the check_token path.
bool sha256(std::initializer_list<std::string_view> parts, unsigned char* out) {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free};
  if (!md || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return false;
  for (std::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return false;
  }
  unsigned int n = 0;
  return EVP_DigestFinal_ex(ctx.get(), out, &n) == 1 && n == 32;
}

// Hex SHA-256 of a secret, as stored; "" only if OpenSSL fails.
std::string sha256_hex(std::string_view s) {
  unsigned char md[32];
  if (!sha256({s}, md)) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned i = 0; i < 32; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

// The stored form of a new secret; an error rather than an empty hash.
Result<std::string> stored_hash(std::string_view secret) {
  std::string h = sha256_hex(secret);
  if (h.size() != 64) return make_error("accounts: SHA-256 unavailable");
  return h;
}

// Constant-time equality of two hex digests (never true for a failed hash).
bool equal_ct(const std::string& a, const std::string& b) {
  return a.size() == 64 && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

// RFC 4648 §5 (URL- and filename-safe alphabet), no padding: safe in a
// URL query, a Basic-auth password and a ddclient/inadyn config line.
std::string base64url(const uint8_t* p, size_t n) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t(p[i]) << 16;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
  }
  return out;
}

}  // namespace

Result<std::string> random_secret() {
  std::array<uint8_t, kSecretBytes> b{};
  if (RAND_bytes(b.data(), int(b.size())) != 1) return make_error("accounts: no random bytes");
  std::string s = base64url(b.data(), b.size());
  OPENSSL_cleanse(b.data(), b.size());
  return s;
}

Result<NewSecret> new_secret() {
  auto text = random_secret();
  if (!text) return text.error();
  auto hash = stored_hash(*text);
  if (!hash) return hash.error();
  return NewSecret{std::move(*text), std::move(*hash)};
}

Result<std::string> hash_password(std::string_view pw) {
  std::array<uint8_t, kSaltLen> salt{};
  if (RAND_bytes(salt.data(), int(salt.size())) != 1) return make_error("accounts: no random bytes");
  size_t len = argon2_encodedlen(kArgonT, kArgonM, kArgonP, kSaltLen, kTagLen, Argon2_id);
  std::string enc(len, '\0');
  int rc = argon2id_hash_encoded(kArgonT, kArgonM, kArgonP, pw.data(), pw.size(), salt.data(),
                                 salt.size(), kTagLen, enc.data(), len);
  if (rc != ARGON2_OK) return make_error(std::string("argon2: ") + argon2_error_message(rc));
  enc.resize(std::strlen(enc.c_str()));
  return enc;
}

Result<void> check_new_password(const std::string& pw) {
  if (pw.size() < kMinPassword) return make_error("password too short: at least 8 characters");
  if (pw.size() > kMaxPassword) return make_error("password too long: at most 1024 bytes");
  return {};
}

Result<bool> verify_password(const std::string& encoded, std::string_view pw) {
  int rc = argon2id_verify(encoded.c_str(), pw.data(), pw.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  return make_error(argon2_error_message(rc));
}

}  // namespace ddns::accounts
