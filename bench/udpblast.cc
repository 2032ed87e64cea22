// udpblast: a DNS-over-UDP load generator (sendmmsg/recvmmsg) that needs less
// CPU per query than dnsperf, to show server headroom beyond what dnsperf can
// drive from one core. Reports QPS, loss and latency percentiles.
//
//   udpblast -s 127.0.0.1 -p 5353 -d queries.txt [-l 15] [-c 8] [-q 64] [-b 32] [-r QPS]
//     -d  dnsperf-style query file: "name type" per line (A AAAA MX TXT NS SOA
//         CNAME PTR SRV ANY or TYPEnnn)
//     -c  UDP sockets (each its own source port)   -q  outstanding per socket
//     -l  seconds                                  -b  batch for sendmmsg/recvmmsg
//     -r  open loop: send at this fixed rate whatever the answers do (-q then
//         only bounds what may be in flight); latency is counted from each
//         query's scheduled time, so a stall on either side is not hidden
//         (no coordinated omission). Without -r: closed loop, -q per socket.
// A query unanswered after 1 s counts as lost and its slot is reused.
// Build: g++ -O2 -std=c++20 -o udpblast udpblast.cc
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

int qtype_of(const std::string& t) {
  static const std::map<std::string, int> kTypes = {
      {"A", 1},    {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},  {"MX", 15},
      {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"DS", 43},  {"ANY", 255}, {"CAA", 257}};
  auto it = kTypes.find(t);
  if (it != kTypes.end()) return it->second;
  if (t.rfind("TYPE", 0) == 0) return std::atoi(t.c_str() + 4);
  return -1;
}

// Wire query without id (bytes 0-1 are patched per send). RD clear, no EDNS,
// as dnsperf sends by default.
bool make_query(const std::string& name, int qtype, std::vector<uint8_t>& out) {
  out.assign({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  size_t start = 0;
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  while (start <= n.size() && !n.empty()) {
    size_t dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    size_t len = dot - start;
    if (len == 0 || len > 63) return false;
    out.push_back(static_cast<uint8_t>(len));
    out.insert(out.end(), n.begin() + start, n.begin() + dot);
    start = dot + 1;
    if (dot == n.size()) break;
  }
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(qtype >> 8));
  out.push_back(static_cast<uint8_t>(qtype));
  out.push_back(0);
  out.push_back(1);
  return out.size() <= 512;
}

struct Slot {
  uint64_t sent_ns = 0;  // 0 = free
};

struct Sock {
  int fd = -1;
  std::vector<Slot> slots;        // indexed by query id
  std::vector<uint16_t> free_ids;
  size_t inflight = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1", file;
  int port = 53, seconds = 15, nsock = 8, outstanding = 64, batch = 32;
  double rate = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "-s") server = v;
    else if (k == "-p") port = std::atoi(v);
    else if (k == "-d") file = v;
    else if (k == "-l") seconds = std::atoi(v);
    else if (k == "-c") nsock = std::atoi(v);
    else if (k == "-q") outstanding = std::atoi(v);
    else if (k == "-b") batch = std::atoi(v);
    else if (k == "-r") rate = std::atof(v);
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  batch = std::clamp(batch, 1, 256);
  outstanding = std::clamp(outstanding, 1, 4096);
  nsock = std::clamp(nsock, 1, 1024);
  if (!(rate >= 0)) { std::fprintf(stderr, "-r: a rate in queries per second, not %g\n", rate); return 2; }
  if (file.empty()) { std::fprintf(stderr, "usage: udpblast -s ADDR -p PORT -d FILE [-l S] [-c N] [-q N] [-b N] [-r QPS]\n"); return 2; }

  std::vector<std::vector<uint8_t>> queries;
  {
    std::ifstream in(file);
    std::string line;
    std::vector<uint8_t> q;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string name, type;
      if (!(ls >> name >> type) || name[0] == '#') continue;
      int qt = qtype_of(type);
      if (qt < 0 || !make_query(name, qt, q)) continue;
      queries.push_back(q);
    }
  }
  if (queries.empty()) { std::fprintf(stderr, "no usable queries in %s\n", file.c_str()); return 1; }

  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, server.c_str(), &sa.sin_addr) != 1) { std::fprintf(stderr, "bad address\n"); return 2; }

  std::vector<Sock> socks(nsock);
  for (auto& s : socks) {
    s.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buf = 4 << 20;
    setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (s.fd < 0 || connect(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      std::perror("socket/connect");
      return 1;
    }
    s.slots.resize(65536);
    for (int id = 65535; id >= 0; --id) s.free_ids.push_back(static_cast<uint16_t>(id));
  }

  // Latency histogram: 1 µs buckets up to 100 ms.
  std::vector<uint64_t> hist(100001, 0);
  uint64_t sent = 0, done = 0, lost = 0, bad = 0, lat_sum_ns = 0;
  std::array<uint64_t, 16> rcodes{};
  size_t qi = 0;

  std::vector<std::array<uint8_t, 512>> sbufs(batch);
  std::vector<std::array<uint8_t, 4096>> rbufs(batch);
  std::vector<mmsghdr> smsg(batch), rmsg(batch);
  std::vector<iovec> siov(batch), riov(batch);
  for (int i = 0; i < batch; ++i) {
    riov[i] = {rbufs[i].data(), rbufs[i].size()};
    rmsg[i].msg_hdr = {};
    rmsg[i].msg_hdr.msg_iov = &riov[i];
    rmsg[i].msg_hdr.msg_iovlen = 1;
  }

  const uint64_t t0 = now_ns();
  const uint64_t t_end = t0 + static_cast<uint64_t>(seconds) * 1000000000ull;
  const uint64_t timeout_ns = 1000000000ull;
  uint64_t last_sweep = t0;
  bool sending = true;
  uint64_t scheduled = 0;  // open loop: queries due so far
  while (true) {
    uint64_t t = now_ns();
    if (t >= t_end) sending = false;
    size_t total_inflight = 0;
    for (auto& s : socks) {
      // receive
      int n = recvmmsg(s.fd, rmsg.data(), batch, MSG_DONTWAIT, nullptr);
      if (n > 0) {
        uint64_t tr = now_ns();
        for (int i = 0; i < n; ++i) {
          const uint8_t* b = rbufs[i].data();
          if (rmsg[i].msg_len < 12) { ++bad; continue; }
          uint16_t id = static_cast<uint16_t>(b[0] << 8 | b[1]);
          Slot& sl = s.slots[id];
          if (sl.sent_ns == 0) { ++bad; continue; }  // late answer after timeout
          uint64_t lat = tr - sl.sent_ns;
          sl.sent_ns = 0;
          s.free_ids.push_back(id);
          --s.inflight;
          ++done;
          ++rcodes[b[3] & 0xF];
          lat_sum_ns += lat;
          ++hist[std::min<uint64_t>(lat / 1000, hist.size() - 1)];
        }
      }
      // send
      if (sending) {
        int want = std::min<int>(batch, outstanding - static_cast<int>(s.inflight));
        uint64_t ts = now_ns();
        if (rate > 0) {
          const auto due = static_cast<uint64_t>(static_cast<double>(ts - t0) * rate / 1e9);
          want = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(std::max(want, 0)), due - scheduled));
        }
        int k = 0;
        for (; k < want && !s.free_ids.empty(); ++k) {
          uint16_t id = s.free_ids.back();
          s.free_ids.pop_back();
          const auto& q = queries[qi];
          qi = (qi + 1 == queries.size()) ? 0 : qi + 1;
          std::memcpy(sbufs[k].data(), q.data(), q.size());
          sbufs[k][0] = static_cast<uint8_t>(id >> 8);
          sbufs[k][1] = static_cast<uint8_t>(id);
          siov[k] = {sbufs[k].data(), q.size()};
          smsg[k].msg_hdr = {};
          smsg[k].msg_hdr.msg_iov = &siov[k];
          smsg[k].msg_hdr.msg_iovlen = 1;
          // Open loop: the clock starts when the query was due, not when
          // this loop got round to it.
          s.slots[id].sent_ns =
              rate > 0 ? t0 + static_cast<uint64_t>(static_cast<double>(scheduled + k) * 1e9 / rate) : ts;
        }
        int m = k > 0 ? sendmmsg(s.fd, smsg.data(), k, 0) : 0;
        if (m < 0) m = 0;
        for (int i = m; i < k; ++i) {  // not sent: give the ids back
          uint16_t id = static_cast<uint16_t>(sbufs[i][0] << 8 | sbufs[i][1]);
          s.slots[id].sent_ns = 0;
          s.free_ids.push_back(id);
        }
        s.inflight += m;
        sent += m;
        // A query the socket would not take is skipped, not sent late: the
        // schedule stays the schedule (it shows as sent < due).
        if (rate > 0) scheduled += static_cast<uint64_t>(k);
      }
      total_inflight += s.inflight;
    }
    // expire unanswered queries (bounded scan, 10 times a second)
    t = now_ns();
    if (t - last_sweep > 100000000ull || (!sending && total_inflight > 0 && t - last_sweep > 10000000ull)) {
      last_sweep = t;
      for (auto& s : socks) {
        if (s.inflight == 0) continue;
        for (uint32_t id = 0; id < 65536; ++id) {
          Slot& sl = s.slots[id];
          if (sl.sent_ns != 0 && t - sl.sent_ns > timeout_ns) {
            sl.sent_ns = 0;
            s.free_ids.push_back(static_cast<uint16_t>(id));
            --s.inflight;
            ++lost;
          }
        }
      }
    }
    if (!sending && total_inflight == 0) break;
    if (!sending && t > t_end + 2 * timeout_ns) break;
  }
  const double elapsed = static_cast<double>(std::min(now_ns(), t_end) - t0) / 1e9;

  auto pct = [&](double p) {
    uint64_t target = static_cast<uint64_t>(p * static_cast<double>(done));
    uint64_t acc = 0;
    for (size_t i = 0; i < hist.size(); ++i) {
      acc += hist[i];
      if (acc > target) return static_cast<double>(i);
    }
    return static_cast<double>(hist.size() - 1);
  };
  std::printf("Queries sent:         %llu\n", static_cast<unsigned long long>(sent));
  std::printf("Queries completed:    %llu\n", static_cast<unsigned long long>(done));
  std::printf("Queries lost:         %llu\n", static_cast<unsigned long long>(lost));
  std::printf("Unexpected responses: %llu\n", static_cast<unsigned long long>(bad));
  std::printf("Queries per second:   %.0f\n", static_cast<double>(done) / elapsed);
  std::printf("Latency (us): avg %.1f p50 %.0f p99 %.0f p99.9 %.0f\n",
              done ? static_cast<double>(lat_sum_ns) / static_cast<double>(done) / 1000.0 : 0.0,
              pct(0.50), pct(0.99), pct(0.999));
  std::printf("Response codes:");
  const char* names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  for (int i = 0; i < 16; ++i) {
    if (!rcodes[i]) continue;
    if (i < 6) std::printf(" %s %llu", names[i], static_cast<unsigned long long>(rcodes[i]));
    else std::printf(" RCODE%d %llu", i, static_cast<unsigned long long>(rcodes[i]));
  }
  std::printf("\n");
  for (auto& s : socks) close(s.fd);
  return 0;
}
