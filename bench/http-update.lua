-- wrk script for bench/http-update.sh: authenticated DynDNS2 updates with a
-- per-host token (HTTP Basic "host:token"), round-robin over the hosts in
-- $DDNS_TOKENS ("host token" per line), each with a new address from
-- 198.18.0.0/15 (RFC 2544 benchmarking range), so every answer is a real
-- change: "good" only after the zone change and its history are durable.

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local hosts = {}
local threads = {}
-- Globals: wrk's thread:set()/get() reach these in each thread's state.
counter = 0
good, other = 0, 0
id = 0
base = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("DDNS_TOKENS") or "tokens.txt"
  for line in io.lines(path) do
    local h, t = line:match("^(%S+)%s+(%S+)$")
    if h then
      table.insert(hosts, { name = h, auth = "Basic " .. base64(h .. ":" .. t) })
    end
  end
  -- Threads start at different hosts and count addresses apart, so no
  -- two requests ask for the same (host, address).
  -- A random start per run and thread, so a run does not repeat the
  -- addresses a previous run (or the warm-up) already set: those would be
  -- nochg, not changes.
  math.randomseed(os.time() + id * 7919)
  base = math.random(0, 131071)
  counter = id * 7919
end

function request()
  counter = counter + 1
  local h = hosts[(counter % #hosts) + 1]
  local n = (base + id * 1000003 + counter) % 131072
  local ip = string.format("198.%d.%d.%d", 18 + math.floor(n / 65536), math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", "/nic/update?hostname=" .. h.name .. "&myip=" .. ip,
                    { ["Authorization"] = h.auth, ["User-Agent"] = "ddns-bench/1.0" })
end

function response(status, headers, body)
  if status == 200 and body:sub(1, 4) == "good" then
    good = good + 1
  else
    other = other + 1
    if other <= 3 then io.stderr:write("unexpected answer: " .. status .. " " .. body) end
  end
end

function done(summary, latency, requests)
  local g, o = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    o = o + t:get("other")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("good=%d other=%d seconds=%.2f durable_updates_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    g, o, secs, g / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
