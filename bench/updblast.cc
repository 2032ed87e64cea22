// updblast: closed-loop RFC 2136 UPDATE load over UDP for bench/update-rate.sh.
// N clients, each with its own socket, send one TSIG-signed (hmac-sha256,
// RFC 8945 §4.3) UPDATE, wait for its reply, then send the next: the number
// of updates in flight is exactly N. Stand-alone (OpenSSL only) so that it
// builds in the script and measures ddnsd, Knot and BIND the same way.
//
// usage: updblast -s ADDR -p PORT -z ZONE -k NAME:BASE64SECRET [-c CLIENTS]
//                 [-l SECONDS] [-m replace|add] [-H HOSTS] [-g START] [-t TIMEOUT_MS]
//   replace: "delete h<j> A; add h<j> 300 A <addr>" (RFC 2136 §2.5.2 + §2.5.1)
//   add:     "add u<g> 300 A <addr>"
// g counts updates from START over all clients; <addr> encodes g, so every
// update is a real change. Prints one line of key=value results.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
// Presentation name (absolute or not) to lowercase wire form.
void put_name(std::vector<uint8_t>& b, const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t dot = text.find('.', i);
    if (dot == std::string::npos) dot = text.size();
    if (dot > i) {
      b.push_back(uint8_t(dot - i));
      for (size_t k = i; k < dot; ++k)
        b.push_back(uint8_t(text[k] >= 'A' && text[k] <= 'Z' ? text[k] + 32 : text[k]));
    }
    i = dot + 1;
  }
  b.push_back(0);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: updblast -s ADDR -p PORT -z ZONE -k NAME:SECRET [-c CLIENTS] [-l SECONDS]\n"
               "                [-m replace|add] [-H HOSTS] [-g START] [-t TIMEOUT_MS]\n");
  std::exit(2);
}

struct Options {
  std::string addr = "127.0.0.1", zone, key_name;
  std::vector<uint8_t> secret;
  int port = 53, clients = 1, hosts = 1000, timeout_ms = 3000;
  double seconds = 10;
  bool add = false;
  uint64_t start = 0;
};

std::vector<uint8_t> b64decode(const std::string& s) {
  std::vector<uint8_t> out(s.size());
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()), int(s.size()));
  if (n < 0) {
    std::fprintf(stderr, "updblast: bad base64 secret\n");
    std::exit(2);
  }
  size_t pad = 0;
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
  out.resize(size_t(n) - pad);
  return out;
}

class Signer {
 public:
  explicit Signer(const Options& o) : o_(o) {
    put_name(key_, o.key_name);
    put_name(alg_, "hmac-sha256");
    put_name(zone_, o.zone);
  }

  // The signed UPDATE number g, with message id `id`.
  std::vector<uint8_t> update(uint64_t g, uint16_t id) const {
    std::vector<uint8_t> m;
    m.reserve(256);
    const uint16_t upcount = o_.add ? 1 : 2;
    put16(m, id);
    put16(m, 5 << 11);  // opcode UPDATE
    put16(m, 1);        // ZOCOUNT
    put16(m, 0);        // PRCOUNT
    put16(m, upcount);  // UPCOUNT
    put16(m, 0);        // ADCOUNT (TSIG added after signing)
    m.insert(m.end(), zone_.begin(), zone_.end());
    put16(m, 6);  // SOA
    put16(m, 1);  // IN
    const uint8_t a[4] = {10, uint8_t(1 + (g >> 16) % 250), uint8_t(g >> 8), uint8_t(g)};
    std::string owner = o_.add ? "u" + std::to_string(g) : "h" + std::to_string(g % uint64_t(o_.hosts));
    std::vector<uint8_t> name;
    put_name(name, owner + "." + o_.zone);
    if (!o_.add) {  // delete the RRset: class ANY, TTL 0, no rdata
      m.insert(m.end(), name.begin(), name.end());
      put16(m, 1);
      put16(m, 255);
      put32(m, 0);
      put16(m, 0);
    }
    m.insert(m.end(), name.begin(), name.end());
    put16(m, 1);
    put16(m, 1);
    put32(m, 300);
    put16(m, 4);
    m.insert(m.end(), a, a + 4);

    const uint64_t now = uint64_t(std::time(nullptr));
    std::vector<uint8_t> tv;  // time signed (48 bits) + fudge
    put16(tv, uint16_t(now >> 32));
    put32(tv, uint32_t(now));
    put16(tv, 300);
    // RFC 8945 §4.3.3: message, then the TSIG variables.
    std::vector<uint8_t> digest = m;
    digest.insert(digest.end(), key_.begin(), key_.end());
    put16(digest, 255);
    put32(digest, 0);
    digest.insert(digest.end(), alg_.begin(), alg_.end());
    digest.insert(digest.end(), tv.begin(), tv.end());
    put16(digest, 0);  // error
    put16(digest, 0);  // other len
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), o_.secret.data(), int(o_.secret.size()), digest.data(), digest.size(), mac,
         &mac_len);
    std::vector<uint8_t> rd = alg_;
    rd.insert(rd.end(), tv.begin(), tv.end());
    put16(rd, uint16_t(mac_len));
    rd.insert(rd.end(), mac, mac + mac_len);
    put16(rd, id);
    put16(rd, 0);
    put16(rd, 0);
    m.insert(m.end(), key_.begin(), key_.end());
    put16(m, 250);  // TSIG
    put16(m, 255);
    put32(m, 0);
    put16(m, uint16_t(rd.size()));
    m.insert(m.end(), rd.begin(), rd.end());
    m[11] = 1;  // ARCOUNT
    return m;
  }

 private:
  const Options& o_;
  std::vector<uint8_t> key_, alg_, zone_;
};

struct Client {
  int fd = -1;
  uint16_t id = 0;
  Clock::time_point sent;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int c;
  while ((c = getopt(argc, argv, "s:p:z:k:c:l:m:H:g:t:")) != -1) {
    switch (c) {
      case 's': o.addr = optarg; break;
      case 'p': o.port = std::atoi(optarg); break;
      case 'z': o.zone = optarg; break;
      case 'k': {
        std::string k = optarg;
        auto colon = k.find(':');
        if (colon == std::string::npos) usage();
        o.key_name = k.substr(0, colon);
        o.secret = b64decode(k.substr(colon + 1));
        break;
      }
      case 'c': o.clients = std::max(1, std::atoi(optarg)); break;
      case 'l': o.seconds = std::atof(optarg); break;
      case 'm': o.add = std::string(optarg) == "add"; break;
      case 'H': o.hosts = std::max(1, std::atoi(optarg)); break;
      case 'g': o.start = std::strtoull(optarg, nullptr, 10); break;
      case 't': o.timeout_ms = std::max(1, std::atoi(optarg)); break;
      default: usage();
    }
  }
  if (o.zone.empty() || o.key_name.empty()) usage();

  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(uint16_t(o.port));
  if (inet_pton(AF_INET, o.addr.c_str(), &sa.sin_addr) != 1) usage();

  Signer signer(o);
  std::vector<Client> cl(size_t(o.clients));
  std::vector<pollfd> pfd(cl.size());
  uint64_t g = o.start;
  uint64_t ok = 0, errors = 0, timeouts = 0, sent = 0;
  uint64_t rcodes[16] = {};
  std::vector<double> lat;
  lat.reserve(1 << 20);

  auto send_next = [&](size_t i) {
    Client& k = cl[i];
    k.id = uint16_t(k.id + 1);
    auto m = signer.update(g++, k.id);
    k.sent = Clock::now();
    if (send(k.fd, m.data(), m.size(), 0) < 0) ++errors;
    ++sent;
  };

  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (size_t i = 0; i < cl.size(); ++i) {
    cl[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (cl[i].fd < 0 || connect(cl[i].fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      std::perror("updblast: socket");
      return 1;
    }
    cl[i].id = uint16_t(i * 2039);
    pfd[i] = {cl[i].fd, POLLIN, 0};
    send_next(i);
  }
  // Closed loop: a client sends its next update only after the reply (or a
  // timeout). Sending stops at the end of the run; replies still in flight
  // are not counted (a run is long compared with one round trip).
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  uint8_t buf[4096];
  for (;;) {
    const auto now = Clock::now();
    if (now >= end) break;
    int ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count()) + 1;
    int n = poll(pfd.data(), nfds_t(pfd.size()), std::min(ms, 50));
    if (n < 0) {
      std::perror("updblast: poll");
      return 1;
    }
    const auto t = Clock::now();
    for (size_t i = 0; i < cl.size(); ++i) {
      Client& k = cl[i];
      if (pfd[i].revents & (POLLIN | POLLERR)) {
        ssize_t r = recv(k.fd, buf, sizeof buf, 0);
        if (r >= 12 && (buf[0] << 8 | buf[1]) == k.id && (buf[2] & 0x80)) {
          int rc = buf[3] & 0x0f;
          rcodes[rc]++;
          if (rc == 0) {
            ++ok;
            lat.push_back(std::chrono::duration<double>(t - k.sent).count());
          } else {
            ++errors;
          }
          if (t < end) send_next(i);
          continue;
        }
        if (r < 0) {  // ICMP refused etc.: count, pace, try again
          ++errors;
          usleep(1000);
          if (t < end) send_next(i);
          continue;
        }
        // A late reply to an update that timed out: ignore it.
      }
      if (t - k.sent > timeout) {
        ++timeouts;
        if (t < end) send_next(i);
      }
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, size_t(p * double(lat.size())))] * 1e3;
  };
  double avg = 0;
  for (double x : lat) avg += x;
  if (!lat.empty()) avg /= double(lat.size());
  std::printf("clients=%d seconds=%.2f sent=%llu ok=%llu errors=%llu timeouts=%llu rate=%.1f "
              "lat_avg_ms=%.3f lat_p50_ms=%.3f lat_p99_ms=%.3f next_g=%llu",
              o.clients, secs, (unsigned long long)sent, (unsigned long long)ok,
              (unsigned long long)errors, (unsigned long long)timeouts, double(ok) / secs,
              avg * 1e3, pct(0.5), pct(0.99), (unsigned long long)g);
  for (int i = 1; i < 16; ++i)
    if (rcodes[i]) std::printf(" rcode%d=%llu", i, (unsigned long long)rcodes[i]);
  std::printf("\n");
  for (auto& k : cl) close(k.fd);
  return ok > 0 ? 0 : 1;
}
