-- wrk script of Scripts/bench-serve: POST /v1/predict with request bodies read from a
-- file (one JSON body a line, made by Scripts/lib/bench_serve.py bodies), cycled in
-- order; each wrk thread starts at its own offset so that the threads do not send the
-- same body at the same time.
--
--   wrk -t2 -c8 -d15s --latency -s serve_bodies.lua http://127.0.0.1:PORT -- BODIES_FILE
--
-- At the end it prints one line that Scripts/bench-serve reads (times in microseconds):
--   RESULT requests=N duration_us=N bytes=N p50_us=N p90_us=N p99_us=N max_us=N
--          connect=N read=N write=N status=N timeout=N
-- status counts answers with an HTTP status of 400 or more (wrk's own rule).

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

local bodies = {}
local next_body = 1
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  local path = args[1]
  if path == nil then
    error("serve_bodies.lua: give the bodies file after --")
  end
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  f:close()
  if #bodies == 0 then
    error("serve_bodies.lua: no bodies in " .. path)
  end
  local index = tonumber(thread_index) or 0
  next_body = (index * 7919) % #bodies + 1
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/v1/predict", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
