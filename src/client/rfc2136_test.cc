// RFC 2136 client exchange against an in-process fake server on loopback:
// UDP answer with TC -> retry over TCP; signed NOERROR accepted; unsigned
// or wrongly signed NOERROR never taken as success.
#include "client/rfc2136.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace ddns::client {
namespace {

enum class Mode { Signed, Unsigned, WrongKey, TruncateThenTcp };

tsig::Key key_of(uint8_t fill) {
  return tsig::Key{*wire::Name::from_text("k1."), tsig::Algorithm::HmacSha256, wire::Bytes(32, fill)};
}

// Answers one request (UDP, and TCP when told to truncate) with NOERROR.
class FakeServer {
 public:
  explicit FakeServer(Mode mode) : mode_(mode) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    udp_ = socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_EQ(bind(udp_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(udp_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    tcp_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    listen(tcp_, 1);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    thread_.join();
    close(udp_);
    close(tcp_);
  }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
  bool used_tcp = false;

 private:
  wire::Bytes answer(const wire::Bytes& req, bool truncate) {
    wire::ParseInfo info;
    auto m = wire::parse(req, &info);
    if (!m || !info.tsig_offset) return {};
    wire::Bytes out(req.begin(), req.begin() + long(info.tsig_offset));
    out[2] |= 0x80;  // QR
    if (truncate) out[2] |= 0x02;
    out[3] = 0;      // NOERROR
    out[11] = uint8_t(out[11] - 1);  // ARCOUNT without the request's TSIG
    if (mode_ == Mode::Unsigned) return out;
    tsig::KeyRing ring;
    ring.add(key_of(1));
    auto v = tsig::verify_request(req, info, m->additional.back(), ring, tsig::now_seconds());
    if (mode_ == Mode::WrongKey) v.key = key_of(2);
    EXPECT_TRUE(tsig::sign_response(out, v, tsig::now_seconds()).ok());
    return out;
  }

  void serve() {
    uint8_t buf[65535];
    pollfd p{udp_, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return;
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n <= 0) return;
    bool tc = mode_ == Mode::TruncateThenTcp;
    auto out = answer(wire::Bytes(buf, buf + n), tc);
    sendto(udp_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
    if (!tc) return;
    pollfd t{tcp_, POLLIN, 0};
    if (poll(&t, 1, 5000) != 1) return;
    int c = accept(tcp_, nullptr, nullptr);
    wire::Bytes in;
    while (in.size() < 2 || in.size() < 2 + size_t(in[0] << 8 | in[1])) {
      ssize_t r = recv(c, buf, sizeof buf, 0);
      if (r <= 0) break;
      in.insert(in.end(), buf, buf + r);
    }
    used_tcp = true;
    auto reply = answer(wire::Bytes(in.begin() + 2, in.end()), false);
    wire::Bytes framed{uint8_t(reply.size() >> 8), uint8_t(reply.size())};
    framed.insert(framed.end(), reply.begin(), reply.end());
    send(c, framed.data(), framed.size(), MSG_NOSIGNAL);
    close(c);
  }

  Mode mode_;
  int udp_ = -1, tcp_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

UpdateResult exchange(Mode mode, bool* used_tcp = nullptr) {
  FakeServer s(mode);
  Rfc2136Request req;
  req.zone = *wire::Name::from_text("example.test.");
  req.name = *wire::Name::from_text("h.example.test.");
  req.v4 = IpAddr::parse("192.0.2.7");
  req.id = 4242;
  tsig::Key key = key_of(1);
  auto r = rfc2136_update({s.addr(), 3000}, req, &key, tsig::now_seconds());
  if (used_tcp) *used_tcp = s.used_tcp;
  return r;
}

TEST(Rfc2136Exchange, SignedNoErrorIsGood) {
  auto r = exchange(Mode::Signed);
  EXPECT_EQ(r.verdict, Verdict::Good) << r.code << " " << r.detail;
}

TEST(Rfc2136Exchange, TruncatedRetriesOverTcp) {
  bool tcp = false;
  auto r = exchange(Mode::TruncateThenTcp, &tcp);
  EXPECT_EQ(r.verdict, Verdict::Good) << r.code << " " << r.detail;
  EXPECT_TRUE(tcp);
}

TEST(Rfc2136Exchange, UnsignedNoErrorIsNotSuccess) {
  auto r = exchange(Mode::Unsigned);
  EXPECT_EQ(r.verdict, Verdict::Retry);
  EXPECT_EQ(r.code, "unsigned");
}

TEST(Rfc2136Exchange, WronglySignedIsNotSuccess) {
  auto r = exchange(Mode::WrongKey);
  EXPECT_EQ(r.verdict, Verdict::Retry);
  EXPECT_EQ(r.code, "badsig");
}

}  // namespace
}  // namespace ddns::client
