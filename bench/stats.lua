-- wrk script for the plain (one request at a time) runs: only adds one
-- machine-readable summary line for bench/run.sh; requests are wrk's static ones.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKSTAT requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d depth=1\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout))
end
