// BIND key files (the `key` statements of named.conf, as written by
// tsig-keygen and read by `nsupdate -k`), and new key generation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "tsig/tsig.h"

namespace ddns::tsig {

// Parses any number of
//   key "name" { algorithm hmac-sha256; secret "base64"; };
// statements. Comments (#, //, /* */) and whitespace may appear anywhere;
// keywords ignore case; the name and algorithm may be quoted or not; the
// algorithm may be the short or the domain-name form. Errors read
// "<file>:<line>: <reason>" (`file` is only used in messages). Fails on a
// duplicate key name, a missing/duplicate algorithm or secret, an unknown
// algorithm (including BIND's truncated "hmac-sha256-128" forms), bad
// base64, an empty secret, or any other statement.
Result<std::vector<Key>> parse_keyfile(std::string_view text, std::string_view file = "<input>");
// Reads and parses a file (an unreadable file is "<path>: <strerror>").
Result<std::vector<Key>> load_keyfile(const std::string& path);

// The BIND text of one key, exactly as tsig-keygen prints it (name without
// the trailing dot), ending in a newline.
std::string to_bind_keyfile(const Key& key);

// A new key with a random secret as long as the algorithm's hash output
// (RFC 8945 §6: secrets should be at least that long). Fails only when the
// random generator does.
Result<Key> generate_key(const wire::Name& name, Algorithm alg = Algorithm::HmacSha256);

}  // namespace ddns::tsig
