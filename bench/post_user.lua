-- POST /user with a multipart body (name, email, avatar) and a distinct email per request:
-- b<BENCH_RUN>-t<thread>-<counter>@bench.example. The avatar is the file BENCH_PNG.
--   BENCH_PNG=avatar.png BENCH_RUN=1 wrk -t1 -c4 -d10s -s bench/post_user.lua http://127.0.0.1:8080
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local boundary = "roster-bench-2f6b1c0e9a"
local png_path = os.getenv("BENCH_PNG") or error("BENCH_PNG is not set")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local threads = 0
local head, tail
local counter = 0
id = 0 -- set per thread by setup()

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  local file = assert(io.open(png_path, "rb"))
  local png = file:read("*a")
  file:close()
  head = "--" .. boundary .. "\r\n" ..
    'Content-Disposition: form-data; name="name"\r\n\r\nBench User\r\n' ..
    "--" .. boundary .. "\r\n" ..
    'Content-Disposition: form-data; name="email"\r\n\r\n'
  tail = "\r\n--" .. boundary .. "\r\n" ..
    'Content-Disposition: form-data; name="avatar"; filename="avatar.png"\r\n' ..
    "Content-Type: image/png\r\n\r\n" .. png .. "\r\n--" .. boundary .. "--\r\n"
end

function request()
  counter = counter + 1
  local email = string.format("b%s-t%d-%d@bench.example", run, id, counter)
  return wrk.format("POST", "/user",
    { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary },
    head .. email .. tail)
end
