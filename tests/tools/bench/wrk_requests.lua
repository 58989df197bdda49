-- The wrk script of `make bench`: sends the pre-signed requests that
-- `robofy-wa-loadgen --write-requests FILE` wrote, each once, in order (starting over when the
-- file runs out), so wrk's one thread does no signing or JSON of its own and is not the limit.
--   wrk -t1 -c50 -d5s -s wrk_requests.lua URL -- FILE CLK_TCK
-- Prints one JSON line when done: requests, req/s, latency percentiles (µs), errors, and the share
-- of a core wrk used during the run (from /proc/self/stat), so a round where the client was the
-- limit shows.
local requests, count, next_index = {}, 0, 0
local threads = {}
cpu_at_start, clock_ticks = 0, 100 -- globals: read from the main state through thread:get

-- utime + stime of this process so far, in clock ticks (/proc/PID/stat fields 14 and 15).
local function cpu_ticks()
  local f = assert(io.open("/proc/self/stat", "r"))
  local stat = f:read("*a")
  f:close()
  local fields = {}
  for field in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = field end
  return tonumber(fields[12]) + tonumber(fields[13])
end

function setup(thread)
  threads[#threads + 1] = thread
end

-- Runs before wrk's clock starts: loading the file is not measured.
function init(args)
  -- One request at a time: LuaJIT refuses a single string of the whole file.
  local f = assert(io.open(args[1], "rb"))
  for line in f:lines() do
    count = count + 1
    requests[count] = f:read(tonumber(line))
  end
  f:close()
  clock_ticks = tonumber(args[2] or "100")
  cpu_at_start = cpu_ticks()
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local ticks, hz = 0, 100
  for _, thread in ipairs(threads) do
    ticks = cpu_ticks() - thread:get("cpu_at_start")
    hz = thread:get("clock_ticks")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"client":"wrk","requests":%d,"ok":%d,"other_status":%d,"errors":%d,' ..
    '"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"client_cpu_share":%.2f}\n',
    summary.requests, summary.requests - e.status, e.status,
    e.connect + e.read + e.write + e.timeout, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    ticks / hz / seconds))
end
