// Credentials of the accounts, whatever the backend: Argon2id password
// hashes, random tokens and session ids, and the SHA-256 form in which
// tokens are stored and compared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ddns::accounts {

constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;  // bounds the hashing work an attacker can ask for
constexpr size_t kMaxSecretText = 128; // longer "tokens" are rejected unhashed

// SHA-256 over the concatenated parts into out[32]; false if OpenSSL fails.
bool sha256(std::initializer_list<std::string_view> parts, unsigned char* out);
// Hex SHA-256 of a secret, as stored; "" only if OpenSSL fails.
std::string sha256_hex(std::string_view s);
// The stored form of a new secret; an error rather than an empty hash.
Result<std::string> stored_hash(std::string_view secret);
// Constant-time equality of two hex digests (never true for a failed hash).
bool equal_ct(const std::string& a, const std::string& b);
// A new token or session id: 256 random bits, base64url (RFC 4648 §5).
Result<std::string> random_secret();
// A new secret with its stored form (shown once, kept as the hash).
struct NewSecret {
  std::string text;
  std::string hash;
};
Result<NewSecret> new_secret();
// An Argon2id PHC string for a new password (~20 ms, 19 MiB).
Result<std::string> hash_password(std::string_view pw);
// Whether `encoded` (a PHC string) is the hash of `pw`; an error when the
// stored hash is unusable.
Result<bool> verify_password(const std::string& encoded, std::string_view pw);
// Length limits of a new password.
Result<void> check_new_password(const std::string& pw);

}  // namespace ddns::accounts
