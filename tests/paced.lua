-- wrk script: each connection waits this many milliseconds (the first script argument) before its next request,
-- so the load is steady rather than as fast as the CPU allows (tests/cluster.py's Load).
local pause_ms = 25

function init(args)
  pause_ms = tonumber(args[1]) or pause_ms
end

function delay()
  return pause_ms
end
