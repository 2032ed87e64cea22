// The web page's static files, compiled into ddnsd by embed.cmake (the
// generated web_assets.cc defines web_assets()).
#pragma once

#include <span>
#include <string_view>

namespace ddns::dyndns {

struct WebAsset {
  std::string_view name;  // file name under src/dyndns/web: "index.html"
  std::string_view data;
};

// Every asset, sorted by name.
std::span<const WebAsset> web_assets();

}  // namespace ddns::dyndns
