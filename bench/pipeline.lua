-- wrk script: N-deep pipelining (default 16) of GET <url path>.
--   wrk -t1 -c64 -d5s -s bench/pipeline.lua http://127.0.0.1:PORT/hello.txt [-- DEPTH]
-- wrk counts the requests in the string `request` returns and waits for that
-- many responses before sending the next batch, so req/s counts responses.
local depth = 16
local batch

init = function(args)
  depth = tonumber(args[1] or "") or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, wrk.path)
  end
  batch = table.concat(r)
end

request = function()
  return batch
end

-- One machine-readable line for bench/run.sh (same as bench/stats.lua).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKSTAT requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d depth=%d\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, depth))
end
