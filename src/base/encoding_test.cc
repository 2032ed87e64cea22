// Tests for base64/base32hex/hex with the RFC 4648 §10 vectors.
#include "base/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ddns {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST(Encoding, Base64Rfc4648) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(base64_encode(bytes(plain[i])), enc[i]);
    std::vector<uint8_t> out;
    ASSERT_TRUE(base64_decode(enc[i], out)) << enc[i];
    EXPECT_EQ(str(out), plain[i]);
  }
  std::vector<uint8_t> out;
  EXPECT_TRUE(base64_decode("Zm9v YmFy", out));
  EXPECT_EQ(str(out), "foobar");
  for (const char* bad : {"Zg=", "Z", "Zm9=v", "Zh==", "Zm9vYmE", "Zm!v", "Zg==="}) {
    out.clear();
    EXPECT_FALSE(base64_decode(bad, out)) << bad;
  }
}

TEST(Encoding, Base32HexRfc4648) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* enc[] = {"", "CO", "CPNG", "CPNMU", "CPNMUOG", "CPNMUOJ1", "CPNMUOJ1E8"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(base32hex_encode(bytes(plain[i])), enc[i]);
    std::vector<uint8_t> out;
    ASSERT_TRUE(base32hex_decode(enc[i], out)) << enc[i];
    EXPECT_EQ(str(out), plain[i]);
    std::string lower = enc[i];
    for (char& c : lower) c = char(std::tolower(c));
    out.clear();
    ASSERT_TRUE(base32hex_decode(lower, out));
    EXPECT_EQ(str(out), plain[i]);
  }
  std::vector<uint8_t> out;
  EXPECT_TRUE(base32hex_decode("CPNMUOJ1E8======", out));
  EXPECT_EQ(str(out), "foobar");
  for (const char* bad : {"C", "CPN", "CPNMUO", "CP", "W0", "CO=X"}) {
    out.clear();
    EXPECT_FALSE(base32hex_decode(bad, out)) << bad;
  }
}

TEST(Encoding, Hex) {
  const uint8_t b[] = {0x00, 0xAB, 0x7f};
  EXPECT_EQ(hex_encode(b), "00AB7F");
  EXPECT_EQ(hex_encode(b, false), "00ab7f");
  std::vector<uint8_t> out;
  EXPECT_TRUE(hex_decode("00 aB\t7F", out));
  EXPECT_EQ(out, std::vector<uint8_t>(b, b + 3));
  out.clear();
  EXPECT_FALSE(hex_decode("abc", out));
  EXPECT_FALSE(hex_decode("zz", out));
}

}  // namespace
}  // namespace ddns
