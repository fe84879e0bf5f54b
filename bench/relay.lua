-- Sends the raw HTTP request in the file BENCH_REQUEST (request line, headers, body) over
-- and over: bench.py writes there what roster's SDK would send moto. Each "################"
-- in it becomes this run's 8 characters (the end of BENCH_RUN) and the request's 8-digit
-- number, so that every object key or email is new: roster's creates are all distinct, and
-- moto races on concurrent writes to one key.
--   BENCH_REQUEST=scan.http wrk -t1 -c4 -d10s -s bench/relay.lua http://127.0.0.1:8080
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local path = os.getenv("BENCH_REQUEST") or error("BENCH_REQUEST is not set")
local raw
local run = (os.getenv("BENCH_RUN") or ""):sub(-8)
run = string.rep("0", 8 - #run) .. run
local counter = 0

function init(args)
  local file = assert(io.open(path, "rb"))
  raw = file:read("*a")
  file:close()
end

function request()
  counter = counter + 1
  local number = run .. string.format("%08d", counter % 100000000)
  return (raw:gsub("################", number))
end
