// The web page: static assets compiled into the binary (embed.cmake), or
// read from Options::web_root when set (for working on the page), served
// with validators and a strict Content-Security-Policy.
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dyndns/service.h"
#include "dyndns/web/assets.h"

namespace ddns::dyndns {
namespace {

using http::Reply;
using http::Request;
using http::Response;

std::string content_type(std::string_view name) {
  auto ends = [&](std::string_view s) { return name.ends_with(s); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// FNV-1a 64: enough to tell versions of a file apart for ETag.
std::string etag_of(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (int i = 60; i >= 0; i -= 4) out += hex[(h >> i) & 15];
  out += '"';
  return out;
}

// Only plain file names from the page's own folder: no '/', no "..", no
// hidden files.
bool safe_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '.') return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

void add_security_headers(Response& r, bool html) {
  // No inline script or style anywhere on the page, so the policy can be
  // strict: everything from this origin only, no framing.
  if (html) {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'");
    r.headers.emplace_back("X-Frame-Options", "DENY");
  }
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

Response asset_response(const Request& req, std::string_view name, std::string_view data,
                        const std::string& etag) {
  Response r;
  add_security_headers(r, name.ends_with(".html"));
  // Revalidate every time: a restarted ddnsd with a new page must not be
  // mixed with an old cached script.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", etag);
  if (auto inm = req.header("if-none-match"); inm && *inm == etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  r.content_type = content_type(name);
  r.body.assign(data);
  return r;
}

class Web {
 public:
  explicit Web(std::string root) : root_(std::move(root)) {
    for (const WebAsset& a : web_assets()) {
      embedded_.emplace(std::string(a.name), Entry{a.data, etag_of(a.data)});
    }
  }

  void serve(const Request& req, Reply reply) const {
    std::string_view path = req.path;
    std::string_view name = path == "/" ? std::string_view("index.html") : path.substr(1);
    if (!safe_name(name)) return reply(not_found());
    if (!root_.empty()) {
      std::ifstream in(root_ + "/" + std::string(name), std::ios::binary);
      if (!in) return reply(not_found());
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string data = ss.str();
      return reply(asset_response(req, name, data, etag_of(data)));
    }
    auto it = embedded_.find(std::string(name));
    if (it == embedded_.end()) return reply(not_found());
    reply(asset_response(req, name, it->second.data, it->second.etag));
  }

 private:
  static Response not_found() {
    Response r = Response::text(404, "not found\n");
    add_security_headers(r, false);
    return r;
  }
  struct Entry {
    std::string_view data;
    std::string etag;
  };
  std::string root_;
  std::unordered_map<std::string, Entry> embedded_;
};

}  // namespace

void Service::install_web(http::Router& router) {
  auto web = std::make_shared<const Web>(opts_.web_root);
  // "/" is a prefix route: it gets every GET no longer route claims, and
  // answers 404 for anything that is not one of the page's files.
  router.add("GET", "/", [web](const Request& req, Reply reply) { web->serve(req, std::move(reply)); });
}

}  // namespace ddns::dyndns
