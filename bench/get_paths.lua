-- GET a random path from a file of paths, one a line (bench.py writes page URLs with
-- cursors spread over the whole table: /users?limit=100&cursor=...).
--   wrk -t1 -c4 -d10s -s bench/get_paths.lua http://127.0.0.1:8080 -- paths.txt
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local threads = 0
id = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  local path = args[1] or error("usage: -- <file of paths>")
  for line in io.lines(path) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("GET", line)
    end
  end
  assert(#requests > 0, "no paths in " .. path)
  math.randomseed(os.time() * 1000 + id)
end

function request()
  return requests[math.random(1, #requests)]
end
