// Tests of the HTTP text parsers, the Router and the Beast server on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "http/parse.h"
#include "http/server.h"

namespace ddns::http {
namespace {

TEST(Parse, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(percent_decode("%zz%4", true), "%zz%4");
  EXPECT_EQ(percent_decode("%41%6a", true), "Aj");
  EXPECT_EQ(percent_decode("%", true), "%");
}

TEST(Parse, Query) {
  std::vector<std::pair<std::string, std::string>> q;
  parse_query("hostname=a.example.test%2Cb.example.test&myip=192.0.2.1&&offline&x=", q);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0].first, "hostname");
  EXPECT_EQ(q[0].second, "a.example.test,b.example.test");
  EXPECT_EQ(q[1].second, "192.0.2.1");
  EXPECT_EQ(q[2].first, "offline");
  EXPECT_EQ(q[2].second, "");
  EXPECT_EQ(q[3].first, "x");
}

TEST(Parse, BasicAuth) {
  // "alice:pa:ss" -> the password keeps its colons (RFC 7617 §2).
  auto a = parse_basic_auth("Basic YWxpY2U6cGE6c3M=");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "alice");
  EXPECT_EQ(a->second, "pa:ss");
  auto b = parse_basic_auth("basic   YWxpY2U6cGE6c3M");  // missing padding tolerated
  ASSERT_TRUE(b);
  EXPECT_EQ(b->second, "pa:ss");
  EXPECT_FALSE(parse_basic_auth("Bearer abc"));
  EXPECT_FALSE(parse_basic_auth("Basic !!!"));
  EXPECT_FALSE(parse_basic_auth("Basic YWxpY2U="));  // no colon
  EXPECT_FALSE(parse_basic_auth(""));
}

TEST(Parse, Cookie) {
  EXPECT_EQ(find_cookie("a=1; session=xyz; b=2", "session").value_or(""), "xyz");
  EXPECT_EQ(find_cookie("session=\"q\"", "session").value_or(""), "q");
  EXPECT_FALSE(find_cookie("sessionx=1; a", "session"));
}

TEST(Parse, CanonicalIp) {
  EXPECT_EQ(canonical_ip("192.0.2.1").value_or(""), "192.0.2.1");
  EXPECT_EQ(canonical_ip(" 192.0.2.1:4711").value_or(""), "192.0.2.1");
  EXPECT_EQ(canonical_ip("[2001:DB8::1]:80").value_or(""), "2001:db8::1");
  EXPECT_EQ(canonical_ip("\"[2001:db8::1]\"").value_or(""), "2001:db8::1");
  EXPECT_EQ(canonical_ip("2001:db8:0:0::2").value_or(""), "2001:db8::2");
  EXPECT_FALSE(canonical_ip("unknown"));
  EXPECT_FALSE(canonical_ip("_hidden"));
  EXPECT_FALSE(canonical_ip("[::1"));
}

TEST(Parse, ProxyList) {
  ProxyList p;
  EXPECT_TRUE(p.add("192.0.2.0/24"));
  EXPECT_TRUE(p.add("2001:db8::/32"));
  EXPECT_TRUE(p.add("127.0.0.1"));
  EXPECT_FALSE(p.add("192.0.2.0/33"));
  EXPECT_FALSE(p.add("example.test"));
  EXPECT_FALSE(p.add("10.0.0.0/"));
  EXPECT_TRUE(p.contains("192.0.2.200"));
  EXPECT_FALSE(p.contains("192.0.3.1"));
  EXPECT_TRUE(p.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(p.contains("2001:db9::1"));
  EXPECT_TRUE(p.contains("127.0.0.1"));
  EXPECT_FALSE(p.contains("127.0.0.2"));
  ProxyList q;
  EXPECT_TRUE(q.add("10.1.2.3/12"));  // host bits ignored
  EXPECT_TRUE(q.contains("10.15.0.1"));
  EXPECT_FALSE(q.contains("10.16.0.1"));
}

TEST(Parse, ForwardedClient) {
  ProxyList p;
  ASSERT_TRUE(p.add("192.0.2.0/24"));
  // Rightmost untrusted hop wins: a client cannot forge its way past us.
  EXPECT_EQ(forwarded_client("203.0.113.9, 198.51.100.7, 192.0.2.5", "", p).value_or(""),
            "198.51.100.7");
  EXPECT_EQ(forwarded_client("198.51.100.7", "", p).value_or(""), "198.51.100.7");
  // All trusted: the leftmost is the client.
  EXPECT_EQ(forwarded_client("192.0.2.9, 192.0.2.5", "", p).value_or(""), "192.0.2.9");
  EXPECT_FALSE(forwarded_client("garbage", "", p));
  EXPECT_FALSE(forwarded_client("", "", p));
  // RFC 7239 §4 examples.
  EXPECT_EQ(forwarded_client("", "for=192.0.2.60;proto=http;by=203.0.113.43", p).value_or(""),
            "192.0.2.60");
  EXPECT_EQ(forwarded_client("", "for=\"[2001:db8:cafe::17]:4711\", for=192.0.2.43", p).value_or(""),
            "2001:db8:cafe::17");
  EXPECT_FALSE(forwarded_client("", "for=unknown", p));
  // Forwarded takes precedence over X-Forwarded-For.
  EXPECT_EQ(forwarded_client("198.51.100.1", "For=198.51.100.2", p).value_or(""), "198.51.100.2");
}

TEST(Router, LongestMatchAndMethods) {
  Router r;
  int hit = 0;
  r.add("GET", "/a", [&](const Request&, Reply) { hit = 1; });
  r.add("*", "/api/", [&](const Request&, Reply) { hit = 2; });
  r.add("GET", "/api/hosts/", [&](const Request&, Reply) { hit = 3; });
  bool mm = false;
  Request req;
  auto call = [&](const Handler* h) {
    if (h) (*h)(req, [](Response) {});
  };
  call(r.find("GET", "/a", &mm));
  EXPECT_EQ(hit, 1);
  EXPECT_EQ(r.find("POST", "/a", &mm), nullptr);
  EXPECT_TRUE(mm);
  EXPECT_EQ(r.find("GET", "/ab", &mm), nullptr);
  EXPECT_FALSE(mm);
  call(r.find("DELETE", "/api/x", &mm));
  EXPECT_EQ(hit, 2);
  call(r.find("GET", "/api/hosts/h.example.test", &mm));
  EXPECT_EQ(hit, 3);
  call(r.find("POST", "/api/hosts/h.example.test", &mm));
  EXPECT_EQ(hit, 2);
}

// ---- the server on loopback ----

int connect_to(const net::Endpoint& e) {
  int fd = socket(e.family(), SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += size_t(n);
  }
}

// Reads `count` complete responses (Content-Length framed); stops on EOF.
std::vector<std::string> read_responses(int fd, size_t count, std::string* rest = nullptr) {
  std::vector<std::string> out;
  std::string buf = rest ? *rest : std::string();
  while (out.size() < count) {
    size_t hdr_end = buf.find("\r\n\r\n");
    if (hdr_end != std::string::npos) {
      size_t cl = 0;
      size_t p = buf.find("Content-Length: ");
      if (p != std::string::npos && p < hdr_end) cl = std::stoul(buf.substr(p + 16));
      if (buf.size() >= hdr_end + 4 + cl) {
        out.push_back(buf.substr(0, hdr_end + 4 + cl));
        buf.erase(0, hdr_end + 4 + cl);
        continue;
      }
    }
    char tmp[4096];
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    buf.append(tmp, size_t(n));
  }
  if (rest) *rest = buf;
  return out;
}

bool peer_closed(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  return recv(fd, &c, 1, 0) == 0;
}

std::string body_of(const std::string& resp) {
  size_t p = resp.find("\r\n\r\n");
  return p == std::string::npos ? "" : resp.substr(p + 4);
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions opts) {
    auto router = std::make_shared<Router>();
    router->add("GET", "/echo", [](const Request& req, Reply reply) {
      std::string b = "path=" + req.path + " client=" + req.client_ip + " peer=" + req.peer_ip;
      if (auto v = req.param("q")) b += " q=" + std::string(*v);
      if (auto a = req.basic_auth()) b += " user=" + a->first;
      reply(Response::text(200, b));
    });
    router->add("POST", "/body", [](const Request& req, Reply reply) {
      reply(Response::text(200, std::to_string(req.body.size())));
    });
    // Answers later from another thread, as a handler does after a commit.
    router->add("GET", "/later", [this](const Request&, Reply reply) {
      std::lock_guard lk(mu_);
      later_.emplace_back([reply = std::move(reply)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        reply(Response::text(201, "later"));
        reply(Response::text(500, "twice"));  // ignored: exactly once
      });
    });
    router->add("GET", "/never", [this](const Request&, Reply reply) {
      std::lock_guard lk(mu_);
      kept_.push_back(std::move(reply));
    });
    if (opts.listen.empty()) opts.listen.push_back(*net::Endpoint::parse("127.0.0.1:0"));
    server_ = std::make_unique<Server>(std::move(opts), router);
    auto r = server_->open();
    ASSERT_TRUE(r) << r.error().message;
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
    std::lock_guard lk(mu_);
    for (auto& t : later_) t.join();
    // Replies kept past stop() must be harmless.
    for (auto& r : kept_) r(Response::text(200, "after stop"));
    kept_.clear();
    server_.reset();
  }
  net::Endpoint ep() const { return server_->bound().at(0); }

  std::unique_ptr<Server> server_;
  std::mutex mu_;
  std::vector<std::thread> later_;
  std::vector<Reply> kept_;
};

TEST_F(ServerTest, KeepAlivePipelineAndDeferredReplies) {
  ServerOptions o;
  o.threads = 2;
  start(o);
  int fd = connect_to(ep());
  ASSERT_GE(fd, 0);
  // Three pipelined requests; the middle one is answered from another thread.
  send_all(fd,
           "GET /echo?q=a%20b HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWxpY2U6cHc=\r\n\r\n"
           "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /echo?q=3 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto rs = read_responses(fd, 3);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_NE(rs[0].find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(body_of(rs[0]), "path=/echo client=127.0.0.1 peer=127.0.0.1 q=a b user=alice");
  EXPECT_NE(rs[1].find("HTTP/1.1 201"), std::string::npos);
  EXPECT_EQ(body_of(rs[1]), "later");
  EXPECT_EQ(body_of(rs[2]), "path=/echo client=127.0.0.1 peer=127.0.0.1 q=3");
  close(fd);
}

TEST_F(ServerTest, NotFoundMethodAndHttp10) {
  start({});
  int fd = connect_to(ep());
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  auto rs = read_responses(fd, 2);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_NE(rs[0].find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(rs[1].find("HTTP/1.1 405"), std::string::npos);
  close(fd);
  // HTTP/1.0 without keep-alive: one answer, then the server closes.
  fd = connect_to(ep());
  send_all(fd, "GET /echo HTTP/1.0\r\n\r\n");
  rs = read_responses(fd, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_NE(rs[0].find("HTTP/1.0 200"), std::string::npos);
  EXPECT_TRUE(peer_closed(fd, 2000));
  close(fd);
}

TEST_F(ServerTest, BodyLimitBadRequestAndExpect) {
  ServerOptions o;
  o.max_body = 100;
  start(o);
  int fd = connect_to(ep());
  send_all(fd, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
  auto rs = read_responses(fd, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(body_of(rs[0]), "10");
  send_all(fd, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
  rs = read_responses(fd, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_NE(rs[0].find("HTTP/1.1 413"), std::string::npos);
  EXPECT_TRUE(peer_closed(fd, 2000));
  close(fd);

  fd = connect_to(ep());
  send_all(fd, "GARBAGE\r\n\r\n");
  rs = read_responses(fd, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_NE(rs[0].find(" 400 "), std::string::npos);
  close(fd);

  // Expect: 100-continue gets its interim answer before the body is sent.
  fd = connect_to(ep());
  send_all(fd, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string rest;
  char tmp[256];
  ssize_t n = recv(fd, tmp, sizeof tmp, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(tmp, size_t(n)).substr(0, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "abcde");
  rs = read_responses(fd, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(body_of(rs[0]), "5");
  close(fd);
}

TEST_F(ServerTest, IdleTimeoutAndConnectionLimit) {
  ServerOptions o;
  o.idle_timeout_ms = 200;
  o.max_connections = 2;
  start(o);
  int a = connect_to(ep()), b = connect_to(ep());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // Make sure both are accepted before the third arrives.
  send_all(a, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  send_all(b, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(read_responses(a, 1).size(), 1u);
  ASSERT_EQ(read_responses(b, 1).size(), 1u);
  int c = connect_to(ep());
  ASSERT_GE(c, 0);
  EXPECT_TRUE(peer_closed(c, 2000));  // over the limit
  close(c);
  // Idle connections are closed after the timeout.
  EXPECT_TRUE(peer_closed(a, 3000));
  EXPECT_TRUE(peer_closed(b, 3000));
  close(a);
  close(b);
  // Freed slots take new connections.
  int d = connect_to(ep());
  send_all(d, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(read_responses(d, 1).size(), 1u);
  close(d);
}

TEST_F(ServerTest, TrustedProxyHeaders) {
  ServerOptions o;
  o.trusted_proxies = {"127.0.0.0/8"};
  start(o);
  int fd = connect_to(ep());
  send_all(fd,
           "GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5, 198.51.100.9\r\n\r\n"
           "GET /echo HTTP/1.1\r\nHost: x\r\nForwarded: for=\"[2001:db8::7]:1234\"\r\n\r\n"
           "GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: nonsense\r\n\r\n");
  auto rs = read_responses(fd, 3);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(body_of(rs[0]), "path=/echo client=198.51.100.9 peer=127.0.0.1");
  EXPECT_EQ(body_of(rs[1]), "path=/echo client=2001:db8::7 peer=127.0.0.1");
  EXPECT_EQ(body_of(rs[2]), "path=/echo client=127.0.0.1 peer=127.0.0.1");
  close(fd);
}

TEST_F(ServerTest, UntrustedPeerHeadersIgnored) {
  ServerOptions o;
  o.trusted_proxies = {"192.0.2.1"};
  start(o);
  int fd = connect_to(ep());
  send_all(fd, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.9\r\n\r\n");
  auto rs = read_responses(fd, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(body_of(rs[0]), "path=/echo client=127.0.0.1 peer=127.0.0.1");
  close(fd);
}

TEST_F(ServerTest, StopWithPendingAndOpenConnections) {
  ServerOptions o;
  o.threads = 2;
  start(o);
  int a = connect_to(ep());
  send_all(a, "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
  int b = connect_to(ep());
  for (int i = 0; i < 100; ++i) {  // wait until /never has been dispatched
    {
      std::lock_guard lk(mu_);
      if (!kept_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_TRUE(peer_closed(a, 2000));
  EXPECT_TRUE(peer_closed(b, 2000));
  close(a);
  close(b);
}

TEST_F(ServerTest, OpenErrors) {
  ServerOptions o;
  o.trusted_proxies = {"not-an-address"};
  o.listen.push_back(*net::Endpoint::parse("127.0.0.1:0"));
  Server s(o, std::make_shared<Router>());
  EXPECT_FALSE(s.open());
  ServerOptions t;
  t.tls_cert = "/nonexistent/cert.pem";
  t.tls_key = "/nonexistent/key.pem";
  t.listen.push_back(*net::Endpoint::parse("127.0.0.1:0"));
  Server s2(t, std::make_shared<Router>());
  auto r = s2.open();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/cert.pem"), std::string::npos);
}

// TLS end to end with a throw-away self-signed certificate (openssl CLI).
TEST_F(ServerTest, Tls) {
  auto dir = std::filesystem::temp_directory_path() / ("ddns-http-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string gen = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                    "-subj /CN=localhost -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(gen.c_str()) != 0) GTEST_SKIP() << "openssl CLI not available";
  ServerOptions o;
  o.tls_cert = cert;
  o.tls_key = key;
  start(o);
  std::string cmd = "curl -sk --max-time 5 https://127.0.0.1:" + std::to_string(ep().port()) +
                    "/echo?q=tls -o " + (dir / "out").string();
  if (std::system("command -v curl >/dev/null") != 0) GTEST_SKIP() << "curl not available";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir / "out");
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "path=/echo client=127.0.0.1 peer=127.0.0.1 q=tls");
  // Plain HTTP on the TLS port is not answered as HTTP.
  int fd = connect_to(ep());
  send_all(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  auto rs = read_responses(fd, 1);
  EXPECT_TRUE(rs.empty());
  close(fd);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ddns::http
