// Key-file tests: tsig-keygen output (captured and, when installed, live),
// comments and layout variants, errors with file:line, writer round trip,
// key generation.
#include "tsig/keyfile.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "base/encoding.h"

namespace ddns::tsig {
namespace {

wire::Name N(std::string_view s) {
  static const wire::Name root;
  auto n = wire::Name::from_text(s, &root);
  EXPECT_TRUE(n.ok()) << s;
  return n.ok() ? *n : root;
}

std::string parse_error(std::string_view text) {
  auto r = parse_keyfile(text, "keys.conf");
  return r.ok() ? "(ok)" : r.error().message;
}

// `tsig-keygen -a hmac-sha512 host1.example.test` (BIND 9.18.49).
constexpr std::string_view kKeygenSha512 =
    "key \"host1.example.test\" {\n"
    "\talgorithm hmac-sha512;\n"
    "\tsecret \"y5T9RJlyvA/a3hr6Mih0Qwjbz/iYrh8RNw4QPjwpRLd3nKoacbul9C8fTErIgoAA45b7Xfx5+/"
    "SF0xp9QYrdSQ==\";\n"
    "};\n";

TEST(KeyFile, TsigKeygenOutput) {
  auto r = parse_keyfile(kKeygenSha512);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const Key& k = (*r)[0];
  EXPECT_EQ(k.name, N("host1.example.test."));
  EXPECT_EQ(k.alg, Algorithm::HmacSha512);
  EXPECT_EQ(k.secret.size(), 64u);
  // The writer prints it back byte for byte.
  EXPECT_EQ(to_bind_keyfile(k), kKeygenSha512);
}

std::string run(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  return out;
}

TEST(KeyFile, LiveTsigKeygenEveryAlgorithm) {
  if (std::system("command -v tsig-keygen >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "tsig-keygen not installed (Debian package bind9)";
  }
  for (const char* alg :
       {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}) {
    std::string text = run(std::string("tsig-keygen -a ") + alg + " live.example.test");
    auto r = parse_keyfile(text, "tsig-keygen");
    ASSERT_TRUE(r.ok()) << alg << ": " << r.error().message << "\n" << text;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(algorithm_text((*r)[0].alg), alg);
    EXPECT_EQ((*r)[0].secret.size(), digest_size((*r)[0].alg));
    EXPECT_EQ(to_bind_keyfile((*r)[0]), text);
  }
}

TEST(KeyFile, SeveralKeysCommentsAndLayout) {
  const char* text = R"(# named.conf style keys
// for nsupdate -k
key "a.example.test." {   /* trailing dot */
  algorithm hmac-md5; secret "MTIzNDU2Nzg5MGFiY2RlZg==";
};
/* a comment
   over lines */ key b.example.test{algorithm"HMAC-SHA1";secret
  "MTIzNDU2Nzg5MGFi
   Y2RlZmdoaWo=" ; } ;
KEY "c.example.test" { ALGORITHM hmac-md5.sig-alg.reg.int; SECRET "AAAA"; };#end)";
  auto r = parse_keyfile(text, "keys.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, N("a.example.test."));
  EXPECT_EQ((*r)[0].alg, Algorithm::HmacMd5);
  EXPECT_EQ((*r)[0].secret, (Bytes{'1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 'a', 'b',
                                   'c', 'd', 'e', 'f'}));
  EXPECT_EQ((*r)[1].name, N("b.example.test."));
  EXPECT_EQ((*r)[1].alg, Algorithm::HmacSha1);
  EXPECT_EQ((*r)[1].secret.size(), 20u);  // base64 split over lines
  EXPECT_EQ((*r)[2].alg, Algorithm::HmacMd5);
  EXPECT_EQ((*r)[2].secret, (Bytes{0, 0, 0}));
  EXPECT_TRUE(parse_keyfile("", "empty").ok());
  EXPECT_TRUE(parse_keyfile("  # nothing\n", "empty")->empty());
}

TEST(KeyFile, ErrorsSayFileAndLine) {
  EXPECT_EQ(parse_error("key \"k\" {\n algorithm hmac-sha256;\n};\n"),
            "keys.conf:1: key 'k' has no secret");
  EXPECT_EQ(parse_error("key \"k\" {\n secret \"AAAA\";\n};\n"),
            "keys.conf:1: key 'k' has no algorithm");
  EXPECT_EQ(parse_error("\n\nkey k { algorithm hmac-sha999; secret \"AAAA\"; };"),
            "keys.conf:3: unknown algorithm 'hmac-sha999'");
  EXPECT_EQ(parse_error("key k {\n algorithm hmac-sha256-128;\n secret \"AAAA\"; };"),
            "keys.conf:2: unknown algorithm 'hmac-sha256-128'");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256;\n\n secret \"AA!A\"; };"),
            "keys.conf:3: secret is not valid base64");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256; secret \"\"; };"),
            "keys.conf:1: empty secret");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256; secret \"AAAA\" };"),
            "keys.conf:1: expected ';', got '}'");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256; secret \"AAAA\"; }"),
            "keys.conf:1: expected ';', got end of file");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256; algorithm hmac-sha1; };"),
            "keys.conf:1: duplicate algorithm");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256; secret \"AAAA\"; secret \"AAAA\"; };"),
            "keys.conf:1: duplicate secret");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha256; secret \"AAAA\";\n"
                        "key k2 { }; };"),
            "keys.conf:2: unknown key option 'key'");
  EXPECT_EQ(parse_error("key k { algorithm a;"), "keys.conf:1: unknown algorithm 'a'");
  EXPECT_EQ(parse_error("key k { algorithm hmac-sha1; secret \"AAAA\";"),
            "keys.conf:1: unexpected end of file in key statement");
  EXPECT_EQ(parse_error("options { };"), "keys.conf:1: expected 'key' statement, got 'options'");
  EXPECT_EQ(parse_error("key k {\n secret \"AAAA"), "keys.conf:2: unterminated quoted string");
  EXPECT_EQ(parse_error("\n/* open"), "keys.conf:2: unterminated /* comment");
  EXPECT_EQ(parse_error("key { };"), "keys.conf:1: expected key name, got '{'");
  EXPECT_EQ(parse_error("key \"\" { };"), "keys.conf:1: empty key name");
  EXPECT_EQ(parse_error("key \"K.example.test\" { algorithm hmac-sha1; secret \"AAAA\"; };\n"
                        "key \"k.EXAMPLE.test.\" { algorithm hmac-sha1; secret \"AAAA\"; };"),
            "keys.conf:2: duplicate key 'k.EXAMPLE.test.'");
  std::string longlabel(64, 'a');
  EXPECT_EQ(parse_error("key " + longlabel + " { };").rfind("keys.conf:1: bad key name: ", 0),
            0u);
}

TEST(KeyFile, LoadFromDisk) {
  std::string path = ::testing::TempDir() + "tsig_keyfile_test.key";
  {
    std::ofstream out(path);
    out << "\n" << kKeygenSha512;
  }
  auto r = load_keyfile(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 1u);
  {
    std::ofstream out(path);
    out << "\nkey x { algorithm nope; };\n";
  }
  auto bad = load_keyfile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, path + ":2: unknown algorithm 'nope'");
  std::remove(path.c_str());
  auto missing = load_keyfile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, path + ": No such file or directory");
}

TEST(KeyFile, GenerateAndWriteRoundTrip) {
  for (Algorithm a : {Algorithm::HmacMd5, Algorithm::HmacSha1, Algorithm::HmacSha224,
                      Algorithm::HmacSha256, Algorithm::HmacSha384, Algorithm::HmacSha512}) {
    auto k1 = generate_key(N("gen.example.test"), a);
    auto k2 = generate_key(N("gen.example.test"), a);
    ASSERT_TRUE(k1.ok() && k2.ok());
    EXPECT_EQ(k1->secret.size(), digest_size(a));
    EXPECT_NE(k1->secret, k2->secret);
    std::string text = to_bind_keyfile(*k1);
    EXPECT_EQ(text.rfind("key \"gen.example.test\" {\n\talgorithm ", 0), 0u) << text;
    auto back = parse_keyfile(text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].name, k1->name);
    EXPECT_EQ((*back)[0].alg, a);
    EXPECT_EQ((*back)[0].secret, k1->secret);
  }
  EXPECT_EQ(generate_key(N("x.example.test"))->alg, Algorithm::HmacSha256);
  // Names that need escapes survive the quotes.
  Key odd{*wire::Name::from_text("we\\\"ird\\.name.example.test."), Algorithm::HmacSha256,
          Bytes{1, 2, 3}};
  auto back = parse_keyfile(to_bind_keyfile(odd));
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << to_bind_keyfile(odd);
  EXPECT_EQ((*back)[0].name, odd.name);
  EXPECT_EQ((*back)[0].name.label_count(), 3u);
}

}  // namespace
}  // namespace ddns::tsig
