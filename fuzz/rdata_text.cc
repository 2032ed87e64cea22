// libFuzzer target for the rdata codec. Input: 1 octet picks a type, 1 octet
// picks the mode. Text mode: the rest is master-file rdata text; whatever
// parses must print, re-parse to the same wire and validate. Wire mode: the
// rest is rdata; whatever validates must print and parse back to it exactly,
// and must read from a "message" unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "wire/rdata.h"

using namespace ddns::wire;

namespace {

void check(bool ok, const char* why, uint16_t type) {
  if (!ok) {
    std::fprintf(stderr, "rdata_text: %s (type %u)\n", why, unsigned(type));
    std::abort();
  }
}

constexpr uint16_t kTypes[] = {
    1,  2,  5,  6,  7,  12, 13, 14, 15, 16, 17, 18, 19, 21, 25,  26,  28,  29,    33,
    35, 36, 37, 39, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,  52,  53,  55,    56,
    59, 60, 61, 62, 63, 64, 65, 99, 104, 105, 106, 107, 108, 109, 250, 256, 257, 258,
    32768, 65280};

// Splits like the zone lexer: blanks separate tokens, "..." is one quoted
// token with escapes kept, a backslash keeps the next character in the token.
struct Lexed {
  std::vector<std::string> storage;
  std::vector<TextToken> tokens;
};

Lexed lex(std::string_view s) {
  Lexed out;
  std::vector<bool> quoted;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
      ++i;
      continue;
    }
    std::string tok;
    bool q = false;
    if (s[i] == '"') {
      q = true;
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) tok += s[i++];
        tok += s[i++];
      }
      ++i;
    } else {
      bool in_quote = false;
      while (i < s.size() && (in_quote || (s[i] != ' ' && s[i] != '\t' && s[i] != '\n'))) {
        if (s[i] == '\\' && i + 1 < s.size()) tok += s[i++];
        else if (s[i] == '"') in_quote = !in_quote;
        tok += s[i++];
      }
    }
    out.storage.push_back(std::move(tok));
    quoted.push_back(q);
  }
  for (size_t k = 0; k < out.storage.size(); ++k)
    out.tokens.push_back(TextToken{out.storage[k], quoted[k]});
  return out;
}

void round_trip(uint16_t type, const Bytes& wire, const Name& origin) {
  check(rdata_validate(type, wire).ok(), "parsed rdata does not validate", type);
  std::string text = rdata_to_text(type, wire);
  Lexed l = lex(text);
  auto back = rdata_from_text(type, l.tokens, origin);
  if (!back) std::fprintf(stderr, "text: %s\nerror: %s\n", text.c_str(), back.error().message.c_str());
  check(back.ok(), "printed rdata does not parse", type);
  check(*back == wire, "text round trip changed the wire", type);
  check(rdata_to_text(type, *back) == text, "printing is not stable", type);
  Bytes canon = rdata_canonical(type, wire);
  check(canon.size() == wire.size(), "canonical form changed the size", type);
  ddns::ByteReader r(wire.data(), wire.size());
  auto m = rdata_from_message(type, r, uint16_t(wire.size()));
  check(m.ok() && *m == wire, "rdata_from_message changed uncompressed rdata", type);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 4096) return 0;
  static const Name kOrigin = *Name::from_text("example.test.");
  uint16_t type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  bool wire_mode = data[1] & 1;
  data += 2;
  size -= 2;
  if (wire_mode) {
    Bytes wire(data, data + size);
    if (!rdata_validate(type, wire).ok()) {
      (void)rdata_to_text(type, wire);  // must still not crash
      return 0;
    }
    round_trip(type, wire, kOrigin);
    return 0;
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Lexed l = lex(text);
  auto r = rdata_from_text(type, l.tokens, kOrigin);
  if (!r) return 0;
  round_trip(type, *r, kOrigin);
  return 0;
}
