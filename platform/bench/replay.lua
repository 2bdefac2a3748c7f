-- Replays request lines (METHOD \t PATH \t TOKEN \t BODY) round-robin, each wrk thread from its own offset.
-- With BENCH_ONCE=1 every line is sent at most once (writes that must not repeat: bookings, confirms).
local lines = {}
local idx = 0
local once = os.getenv("BENCH_ONCE") == "1"
local counter = 0

local function split(s)
  local out = {}
  for field in (s .. "\t"):gmatch("(.-)\t") do table.insert(out, field) end
  return out
end

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  for l in io.lines(os.getenv("BENCH_FILE")) do
    if #l > 0 then table.insert(lines, split(l)) end
  end
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local t = tonumber(tid or 1)
  idx = math.floor((#lines / nthreads) * (t - 1))
  step = once and nthreads or 1
  if once then idx = t - 1 end
end

function request()
  idx = idx + (step or 1)
  if once and idx > #lines then
    return wrk.format("GET", "/health")  -- exhausted: harmless filler, reported by the harness
  end
  local r = lines[((idx - 1) % #lines) + 1]
  local headers = {}
  if r[3] ~= "" then headers["Authorization"] = "Bearer " .. r[3] end
  local body = nil
  if r[4] ~= nil and r[4] ~= "" then
    headers["Content-Type"] = "application/json"
    body = r[4]
  end
  return wrk.format(r[1], r[2], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
