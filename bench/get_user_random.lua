-- GET /user/{email} for a random existing seeded user: emails are
-- <prefix><index, 7 digits>@seed.example for index 0..count-1 (as bench.py seeds them).
--   wrk -t1 -c4 -d10s -s bench/get_user_random.lua http://127.0.0.1:8080 -- 100000 g
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local count, prefix
local threads = 0
id = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  count = tonumber(args[1]) or error("usage: -- <count> [prefix]")
  prefix = args[2] or "g"
  math.randomseed(os.time() * 1000 + id)
end

function request()
  local index = math.random(0, count - 1)
  return wrk.format("GET", string.format("/user/%s%07d@seed.example", prefix, index))
end
