// In-process test of the whole daemon core: real zones, real answer engine,
// UDP and TCP clients on loopback while reload() swaps snapshots (the TSan
// build runs this to check the publish/read path).
#include "server/server.h"
#include "server/secondary.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ddns::server {
namespace {

namespace fs = std::filesystem;

std::string zone_text(uint32_t serial) {
  return "$ORIGIN example.test.\n$TTL 300\n"
         "@ IN SOA ns1 hostmaster " + std::to_string(serial) + " 7200 3600 1209600 300\n"
         "@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.10\n";
}

void write_file(const fs::path& p, const std::string& text) {
  fs::path tmp = p;
  tmp += ".tmp";
  std::ofstream(tmp) << text;
  fs::rename(tmp, p);
}

// A query for www.example.test/A or example.test/SOA.
std::vector<uint8_t> query(uint16_t id, bool soa) {
  std::vector<uint8_t> q = {uint8_t(id >> 8), uint8_t(id), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  if (!soa) {
    const uint8_t www[] = {3, 'w', 'w', 'w'};
    q.insert(q.end(), www, www + 4);
  }
  const uint8_t name[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};
  q.insert(q.end(), name, name + sizeof name);
  q.push_back(0);
  q.push_back(soa ? 6 : 1);
  q.push_back(0);
  q.push_back(1);
  return q;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ddns-server-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write_file(dir_ / "example.test.zone", zone_text(1));
    cfg_.server.listen = {"127.0.0.1:0"};
    cfg_.server.threads = 2;
    cfg_.server.tcp_threads = 1;
    cfg_.server.data_dir = (dir_ / "var").string();
    cfg_.server.log_level = "warn";
    cfg_.zones.push_back({"example.test", (dir_ / "example.test.zone").string(), "test"});
    setup_logging("warn");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  conf::Config cfg_;
};

TEST_F(ServerTest, AnswersDuringReloads) {
  Server s(cfg_);
  auto r = s.start();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(s.listening().size(), 1u);
  const net::Endpoint ep = s.listening()[0];

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      int fd = ::socket(ep.family(), SOCK_DGRAM, 0);
      timeval tv{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
      for (int i = 0; i < 2000 && !stop.load(); ++i) {
        auto q = query(uint16_t(c * 10000 + i), i % 2);
        ::send(fd, q.data(), q.size(), 0);
        uint8_t buf[512];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        bool good = n >= 12 && buf[0] == q[0] && buf[1] == q[1] && (buf[2] & 0x80) &&
                    (buf[3] & 0x0F) == 0 && buf[7] == 1;  // NOERROR, one answer
        (good ? ok : bad)++;
      }
      ::close(fd);
    });
  }
  for (uint32_t serial = 2; serial <= 30; ++serial) {
    write_file(dir_ / "example.test.zone", zone_text(serial));
    auto rep = s.reload();
    EXPECT_EQ(rep.reloaded, 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(ok.load(), 50);

  auto zs = s.zones();
  auto origin = wire::Name::from_text("example.test.");
  ASSERT_TRUE(origin.ok());
  ASSERT_NE(zs->find(*origin), nullptr);
  EXPECT_EQ(zs->find(*origin)->serial(), 30u);

  // A broken file keeps the old data.
  write_file(dir_ / "example.test.zone", zone_text(31) + "bad IN A 999.0.0.1\n");
  auto rep = s.reload();
  EXPECT_EQ(rep.failed, 1u);
  EXPECT_EQ(s.zones()->find(*origin)->serial(), 30u);
  // Unchanged: skipped.
  rep = s.reload();
  EXPECT_EQ(rep.unchanged, 1u);
  s.stop();
}

TEST_F(ServerTest, BrokenZoneRefusesStart) {
  write_file(dir_ / "example.test.zone", zone_text(1) + "www IN MX not-a-number x\n");
  Server s(cfg_);
  auto r = s.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("zone example.test. refused"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(s.listening().empty());
}

// RFC 1035 §3.3.13: the copy's life runs from the last refresh, not from
// when the process started.
TEST(SecondaryExpire, FromLastRefresh) {
  using refresh_state::expire_left_ms;
  const int64_t last = 1'700'000'000'000;
  EXPECT_EQ(expire_left_ms(last, last, 6), 6000);
  EXPECT_EQ(expire_left_ms(last, last + 2500, 6), 3500);  // restarted 2.5 s later
  EXPECT_LE(expire_left_ms(last, last + 6000, 6), 0);
  EXPECT_LT(expire_left_ms(last, last + 86400'000, 6), 0);
  // A clock stepped back never lengthens the copy's life.
  EXPECT_EQ(expire_left_ms(last, last - 60'000, 6), 6000);
}

TEST(SecondaryExpire, StateFileRoundTrip) {
  fs::path dir = fs::temp_directory_path() / ("ddns-refresh-state-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "secondary-refresh.state").string();
  EXPECT_TRUE(refresh_state::read(path).empty());  // missing file: nothing stored yet
  refresh_state::Map m{{"example.test.", 1'700'000'000'123}, {"exp.test.", 42}};
  ASSERT_TRUE(refresh_state::write(path, m));
  EXPECT_EQ(refresh_state::read(path), m);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  // A damaged line loses only itself.
  std::ofstream(path, std::ios::app) << "garbage\nno-dot 5\nx.test. -1\nok.test. 7 extra\n";
  EXPECT_EQ(refresh_state::read(path), m);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ddns::server
