-- wrk script for the OCSP benchmark (bench/ocsp.py).
--
--   wrk -t1 -cN -dS --latency -s bench/ocsp_wrk.lua http://127.0.0.1:PORT/ocsp -- BODIES MODE
--
-- BODIES: a file with one DER OCSP request per line, hex-encoded (built by bench/ocsp.py).
-- MODE:   "keepalive" (HTTP/1.1 persistent connections, wrk's default) or "close"
--         ("Connection: close": one TCP connection per request, as openssl ocsp answers).
-- Each request is a POST of one body picked at random (uniformly) from the file, with
-- Content-Type application/ocsp-request. The requests are formatted once, in init().
-- done() prints one line "WRK-JSON {...}" that bench/ocsp.py parses.

local requests = {}

-- wrk's own wrk.resolve() opens and closes a probe connection to the server without sending
-- anything. openssl ocsp (3.0, still in 4.x: openssl/openssl#31129, #23934) then spins on that
-- dead connection forever and never answers again. Resolve without probing.
wrk.resolve = function(host, service)
   wrk.addrs = wrk.lookup(host, service)
end

local function unhex(s)
   return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

function init(args)
   local path = args[1]
   local mode = args[2] or "keepalive"
   local headers = { ["Content-Type"] = "application/ocsp-request" }
   if mode == "close" then
      headers["Connection"] = "close"
   end
   local f = assert(io.open(path, "r"))
   for line in f:lines() do
      if #line > 0 then
         requests[#requests + 1] = wrk.format("POST", nil, headers, unhex(line))
      end
   end
   f:close()
   assert(#requests > 0, "no request bodies in " .. path)
   math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
   return requests[math.random(#requests)]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK-JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
