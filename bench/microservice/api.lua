-- wrk script for bench/microservice/run.sh: one of the service's requests,
-- chosen by the first argument, and a machine-readable summary line.
--   wrk ... -s api.lua URL -- lookup N     GET /api/notes/{random id in 1..N}
--   wrk ... -s api.lua URL -- insert       POST /api/notes {"text":"..."}
--   wrk ... -s api.lua URL -- list LIMIT   GET /api/notes?limit=LIMIT&after={random}
--   wrk ... -s api.lua URL -- health       GET /api/health
-- Each thread seeds its own generator; ids are uniform, like pgbench's random().
local mode, arg1 = "lookup", 1000
local counter = 0

init = function(args)
  mode = args[1] or "lookup"
  arg1 = tonumber(args[2] or "1000")
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):sub(8), 16) % 100000)
end

local body_hdr = { ["Content-Type"] = "application/json" }

request = function()
  if mode == "lookup" then
    return wrk.format("GET", "/api/notes/" .. math.random(1, arg1))
  elseif mode == "insert" then
    counter = counter + 1
    local body = string.format('{"text":"bench note %d from wrk, a short line of text"}', counter)
    return wrk.format("POST", "/api/notes", body_hdr, body)
  elseif mode == "list" then
    return wrk.format("GET", "/api/notes?limit=" .. arg1 .. "&after=" .. math.random(0, 1000))
  else
    return wrk.format("GET", "/api/health")
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKSTAT requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
