-- wrk script for bench/load_scanners.py --wrk: one simulated scanner per wrk thread.
--
-- Run with as many threads as connections (-t N -c N): each thread is one scanner with its own
-- device token, device_id and sequence numbers, as a real scanner sends them (POST one event per
-- request to /api/operations/<id>/events). The events are made here, per request:
--   event_id  "<device_id>-<seq>-<run>" (made by the device, unique per run)
--   seq       the device's own count, going on from where the previous phase stopped
--   payload   a registered person (chosen at random) and the device's route point
-- The server computes the payload hash itself; the scan schema has no hash field.
-- A share of the requests repeat the previous event unchanged (a harmless repeat: 200).
--
-- Environment (set by load_scanners.py):
--   CORRIDOR_WRK_DEVICES  file, one line per scanner: device_id token point operation_id first_seq
--   CORRIDOR_WRK_PEOPLE   file, one registered person id per line
--   CORRIDOR_WRK_OUT      file to write what each scanner sent and what was acknowledged (JSON)
--   CORRIDOR_WRK_RUN      a tag made part of every event id
--   CORRIDOR_WRK_REPEAT   share of requests that repeat the previous event (default 0.05)
--   CORRIDOR_WRK_RATE     requests per second per scanner; 0 (default) = as fast as answered
--
-- An event counts as acknowledged only when a request that carried it was answered 200 or 201;
-- a request cut off by the end of the run, a timeout or an error leaves it unacknowledged.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } corridor_timespec;
int clock_gettime(int clock, corridor_timespec *ts);
]])

local T0 = 1481805000 -- 2016-12-15T12:30:00Z, the bench's device clock origin
local threads = {}
local count = 0

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then
      out[#out + 1] = line
    end
  end
  return out
end

local function now_ms()
  local ts = ffi.new("corridor_timespec")
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function setup(thread)
  count = count + 1
  thread:set("index", count)
  threads[#threads + 1] = thread
end

function init(_args)
  local fields = {}
  for word in lines(os.getenv("CORRIDOR_WRK_DEVICES"))[index]:gmatch("%S+") do
    fields[#fields + 1] = word
  end
  device_id, token, point, operation = fields[1], fields[2], fields[3], fields[4]
  first_seq = tonumber(fields[5])
  seq = first_seq - 1
  people = lines(os.getenv("CORRIDOR_WRK_PEOPLE"))
  run = os.getenv("CORRIDOR_WRK_RUN") or "run"
  repeat_share = tonumber(os.getenv("CORRIDOR_WRK_REPEAT") or "0.05")
  rate = tonumber(os.getenv("CORRIDOR_WRK_RATE") or "0")
  kind = (point == "start") and "boarded" or "checkpoint"
  path = "/api/operations/" .. operation .. "/events"
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  math.randomseed(index * 7919)
  unacked = {} -- seqs sent and not (yet) acknowledged
  statuses = {} -- answers by HTTP status
  repeats = 0
  pending = nil -- the seq carried by the request in flight
  paced = 0
  started = nil
end

function request()
  local body
  if last_body ~= nil and math.random() < repeat_share then
    body = last_body
    pending = last_seq
    repeats = repeats + 1
  else
    seq = seq + 1
    body = string.format(
      '{"event_id":"%s-%d-%s","device_id":"%s","seq":%d,"device_time":"%s","type":"%s",'
        .. '"payload":{"person_id":"%s","point":"%s"}}',
      device_id, seq, run, device_id, seq, os.date("!%Y-%m-%dT%H:%M:%SZ", T0 + seq), kind,
      people[math.random(#people)], point
    )
    unacked[seq] = true
    last_body, last_seq, pending = body, seq, seq
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, _headers, _body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status == 200 or status == 201) and pending ~= nil then
    unacked[pending] = nil
  end
  pending = nil
end

-- Paced runs: each scanner sends at `rate` requests per second on a fixed schedule (a late
-- answer is followed at once by the next request, so the rate holds while the server keeps up).
function delay()
  if rate <= 0 then
    return 0
  end
  local interval = 1000 / rate
  if started == nil then
    started = now_ms() + (index % 50) * interval / 50
  end
  paced = paced + 1
  local wait = started + paced * interval - now_ms()
  return wait > 0 and wait or 0
end

function done(summary, latency, _requests)
  local out = io.open(os.getenv("CORRIDOR_WRK_OUT"), "w")
  out:write('{"requests":', summary.requests, ',"duration_us":', summary.duration)
  local e = summary.errors
  out:write(',"errors":{"connect":', e.connect, ',"read":', e.read, ',"write":', e.write)
  out:write(',"status":', e.status, ',"timeout":', e.timeout, "}")
  out:write(',"latency_us":{"p50":', latency:percentile(50), ',"p90":', latency:percentile(90))
  out:write(',"p99":', latency:percentile(99), ',"p999":', latency:percentile(99.9))
  out:write(',"max":', latency.max, ',"mean":', latency.mean, "}")
  out:write(',"devices":[')
  for i, thread in ipairs(threads) do
    local missing = {}
    for s, _ in pairs(thread:get("unacked")) do
      missing[#missing + 1] = s
    end
    local answers = {}
    for status, n in pairs(thread:get("statuses")) do
      answers[#answers + 1] = string.format('"%d":%d', status, n)
    end
    out:write(i > 1 and "," or "", '{"device_id":"', thread:get("device_id"), '"')
    out:write(',"first_seq":', thread:get("first_seq"), ',"last_seq":', thread:get("seq"))
    out:write(',"repeats":', thread:get("repeats"), ',"unacked":[', table.concat(missing, ","), "]")
    out:write(',"statuses":{', table.concat(answers, ","), "}}")
  end
  out:write("]}\n")
  out:close()
end
