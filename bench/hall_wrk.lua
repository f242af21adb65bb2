-- wrk script for the hall benchmark (bench/hall.py).
--
--   wrk -t2 -c200 -dS --latency -s bench/hall_wrk.lua http://127.0.0.1:PORT -- REQUESTS [THINK]
--
-- REQUESTS: a file with one request per line, "SESSIONID<TAB>KIND<TAB>PATH" (built by
-- bench/hall.py: for every simulated user, its session cookie and the GETs of the mix, all of
-- them on the user's own data). Each request is one line picked at random (uniformly), sent as
-- a GET with "Cookie: sessionid=..." (keep-alive). The requests are formatted once, in init().
-- THINK (optional, ms): each connection waits a random 0..2*THINK ms (mean THINK) before each
-- request, a user's think time (wrk's delay(); not counted in the latency). 0 or absent: none,
-- every connection sends its next request as soon as the previous answer arrived.
-- response() counts non-200 answers (wrk itself counts only status >= 400 as errors, so a 302
-- to the login page would pass unnoticed). done() prints one line "WRK-JSON {...}".

local requests = {}
local think = 0
local threads = {}
non200 = 0
redirects = 0

function setup(thread)
   threads[#threads + 1] = thread
end

function init(args)
   think = tonumber(args[2] or "0") or 0
   local f = assert(io.open(args[1], "r"))
   for line in f:lines() do
      local sid, kind, path = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
      if sid then
         requests[#requests + 1] = wrk.format("GET", path, { ["Cookie"] = "sessionid=" .. sid })
      end
   end
   f:close()
   assert(#requests > 0, "no requests in " .. args[1])
   math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
   return requests[math.random(#requests)]
end

function delay()
   if think > 0 then
      return math.random(0, 2 * think)
   end
   return 0
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
      if status >= 300 and status < 400 then
         redirects = redirects + 1
      end
   end
end

function done(summary, latency, requests)
   local n, r = 0, 0
   for _, t in ipairs(threads) do
      n = n + (t:get("non200") or 0)
      r = r + (t:get("redirects") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'WRK-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non200": %d, '
      .. '"redirects": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p75": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, '
      .. '"mean": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes, n, r,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
