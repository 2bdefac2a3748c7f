-- Replays request lines (METHOD \t PATH \t TOKEN \t BODY) round-robin, each wrk thread from its own offset.
-- With BENCH_ONCE=1 every line is sent at most once (writes that must not repeat: bookings, confirms),
-- from the slice BENCH_OFFSET .. BENCH_OFFSET + BENCH_LIMIT, so each run of a scenario uses fresh lines.
-- Once a slice is used up, a thread sends GET /health as filler; the harness reports the filler count.
local lines = {}
local idx = 0
local once = os.getenv("BENCH_ONCE") == "1"
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local last = 0
local counter = 0
local threads = {}
filler = 0
s5xx = 0
s401, s404, s409, s429, s4xx = 0, 0, 0, 0, 0
-- BENCH_COUNT_5XX=1 (the soak, and run.py with BENCH_COUNT_STATUS=1): name the non-2xx answers, server
-- errors apart from 401, 404, 409, 429 and other 4xx. Off by default: a response() hook costs wrk CPU.
if os.getenv("BENCH_COUNT_5XX") == "1" then
  function response(status, headers, body)
    if status >= 500 then s5xx = s5xx + 1
    elseif status == 401 then s401 = s401 + 1
    elseif status == 404 then s404 = s404 + 1
    elseif status == 409 then s409 = s409 + 1
    elseif status == 429 then s429 = s429 + 1
    elseif status >= 400 then s4xx = s4xx + 1 end
  end
end

local function split(s)
  local out = {}
  for field in (s .. "\t"):gmatch("(.-)\t") do table.insert(out, field) end
  return out
end

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  for l in io.lines(os.getenv("BENCH_FILE")) do
    if #l > 0 then table.insert(lines, split(l)) end
  end
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local t = tonumber(tid or 1)
  idx = math.floor((#lines / nthreads) * (t - 1))
  step = once and nthreads or 1
  if once then
    idx = offset + t - step  -- request() adds step first: thread t starts at line offset + t
    last = (limit > 0) and math.min(#lines, offset + limit) or #lines
  end
end

function request()
  idx = idx + (step or 1)
  if once and idx > last then
    filler = filler + 1
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
  local fill = 0
  local errors5xx = 0
  local named = {s401 = 0, s404 = 0, s409 = 0, s429 = 0, s4xx = 0}
  for _, thread in ipairs(threads) do
    fill = fill + (tonumber(thread:get("filler")) or 0)
    errors5xx = errors5xx + (tonumber(thread:get("s5xx")) or 0)
    for k, v in pairs(named) do named[k] = v + (tonumber(thread:get(k)) or 0) end
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"filler":%d,"s5xx":%d,"s401":%d,"s404":%d,"s409":%d,"s429":%d,"s4xx":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}\n',
    summary.requests, fill, errors5xx, named.s401, named.s404, named.s409, named.s429, named.s4xx, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
