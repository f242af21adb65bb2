-- wrk script for the OCSP benchmark (bench/ocsp.py).
--
--   wrk -t1 -cN -dS --latency -s bench/ocsp_wrk.lua http://127.0.0.1:PORT/ocsp -- FILE MODE
--
-- MODE "post" / "post-close": FILE has one DER OCSP request per line, hex-encoded; each request
--   is a POST of one of them, picked at random, Content-Type application/ocsp-request.
-- MODE "get" / "get-close": FILE has one path per line (/ocsp/<url-encoded base64 request>,
--   RFC 6960 A.1); each request is a GET of one of them.
-- "-close" adds "Connection: close" (one TCP connection per request, as openssl ocsp answers).
-- Requests are formatted once, in init(). done() prints one line "WRK-JSON {...}".

local requests = {}

-- wrk's own wrk.resolve() opens and closes a probe connection to the server without sending
-- anything. openssl ocsp (3.0) then spins on that dead connection and never answers again.
-- Resolve without probing.
wrk.resolve = function(host, service)
   wrk.addrs = wrk.lookup(host, service)
end

local function unhex(s)
   return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

function init(args)
   local path = args[1]
   local mode = args[2] or "post"
   local headers = {}
   if mode:find("close", 1, true) then
      headers["Connection"] = "close"
   end
   local get = mode:sub(1, 3) == "get"
   if not get then
      headers["Content-Type"] = "application/ocsp-request"
   end
   local f = assert(io.open(path, "r"))
   for line in f:lines() do
      if #line > 0 then
         if get then
            requests[#requests + 1] = wrk.format("GET", line, headers)
         else
            requests[#requests + 1] = wrk.format("POST", nil, headers, unhex(line))
         end
      end
   end
   f:close()
   assert(#requests > 0, "no requests in " .. path)
   math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
   return requests[math.random(#requests)]
end

-- No response() callback: it would slow wrk down; errors.status counts answers >= 400.

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
