-- wrk script: POSTs Fone Dynamics Call.Complete webhooks, form-encoded,
-- with every field of examples/webhooks/answered-with-gclid.form.
--
-- Every request is a new call with a Sid shaped like the platform's: "CA"
-- and 32 hex digits, the first 8 random (so that calls arrive in no
-- particular order of Sid, as real ones do, and land all over the stores'
-- Sid-keyed B-trees), then a hash of the run nonce, the thread and a
-- counter. So neither two threads nor two runs against a persistent store
-- ever send the same call (a repeated Sid would be answered as a
-- duplicate, which is cheaper and would flatter the figures). Call.StartDate is the current
-- second in UTC, as the platform sends it, and the GA client id differs per
-- request.
--
-- Usage:
--   WEBHOOK_TOKEN=secret BENCH_NONCE=run42 \
--     wrk -t2 -c64 -d10s -s bench/wrk/webhook.lua \
--     http://127.0.0.1:8080/webhooks/fonedynamics [-- TOKEN [NONCE]]
--
-- The token (argument 1, else $WEBHOOK_TOKEN) is sent as a Bearer token;
-- without one, no Authorization header is sent. The nonce (argument 2, else
-- $BENCH_NONCE, else the clock) must differ between runs.
--
-- At the end one line is printed for the runner to parse:
--   WRK_RESULT {"requests":...,"rps":...,"p50_ms":...,...}
-- non_2xx counts responses with a status of 400 or more (wrk's own
-- count); socket_errors counts connect, read, write errors and timeouts.

local threads = {}
local run_nonce = nil

-- The body around the three varying fields, in the form file's order.
local part_head = "Action=Webhook&Event=Call.Complete"
  .. "&Account.Sid=AC5f1c0d2e9b8a47c3"
  .. "&Property.Sid=PR81b2c3d4e5f60718"
  .. "&Property.Name=www.harbourplumbing.com.au"
  .. "&Property.Type=Site"
  .. "&Call.Sid="
local part_date = "&Call.StartDate="
local part_call = "&Call.From=%2B61412345678"
  .. "&Call.From.Country=Australia"
  .. "&Call.From.Region=NSW"
  .. "&Call.From.City=Sydney"
  .. "&Call.To=%2B61291234567"
  .. "&Call.To.Type=Dynamic"
  .. "&Call.To.Name=Website+-+Google+Ads"
  .. "&Call.Duration=187"
  .. "&Call.Disposition=ANSWERED"
  .. "&Call.Recording.Uri=https%3A%2F%2Frecordings.example.net%2F"
local part_session = ".mp3"
  .. "&Call.Endpoint=%2B61298765432"
  .. "&Attribution.Source=google"
  .. "&Attribution.Medium=cpc"
  .. "&Attribution.Campaign=Emergency+Plumbing+-+Sydney"
  .. "&Attribution.Content=ad-variant-b"
  .. "&Session.Traffic.Type=Campaign"
  .. "&Session.Keywords=emergency+plumber+sydney"
  .. "&Session.ConversionUri=https%3A%2F%2Fwww.harbourplumbing.com.au%2Fcontact"
  .. "&Session.LandingUri=https%3A%2F%2Fwww.harbourplumbing.com.au%2F%3Fgclid%3DCj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kq"
  .. "&Google.Analytics.ClientId="
local part_tail = "&Google.AdWords.ClickId=Cj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kqZ3vM0wYtN5cQe9sRr2hLpD4fE_aBcD"

-- setup runs once per thread in the main interpreter: it numbers the
-- threads and gives them all the same run nonce.
function setup(thread)
  if run_nonce == nil then
    run_nonce = os.getenv("BENCH_NONCE")
    if run_nonce == nil or run_nonce == "" then
      math.randomseed(os.time())
      run_nonce = string.format("%x%04x", os.time(), math.random(0, 65535))
    end
  end
  thread:set("tid", #threads)
  thread:set("nonce", run_nonce)
  table.insert(threads, thread)
end

-- The rest runs in each thread's own interpreter.
local counter = 0
local last_sec = -1
local start_date = ""
local headers = {}
local sid_prefix = ""

function init(args)
  local token = args[1]
  if token == nil or token == "" then
    token = os.getenv("WEBHOOK_TOKEN")
  end
  if args[2] ~= nil and args[2] ~= "" then
    nonce = args[2]
  end
  nonce = nonce or string.format("%x", os.time())
  tid = tid or 0
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  if token ~= nil and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  -- djb2 of the nonce, modulo 2^32 (exact in a double).
  local h = 5381
  for i = 1, #nonce do
    h = (h * 33 + nonce:byte(i)) % 4294967296
  end
  sid_prefix = string.format("%08x%04x", h, tid % 65536)
  math.randomseed(h + tid)
end

function request()
  counter = counter + 1
  local now = os.time()
  if now ~= last_sec then
    last_sec = now
    -- "YYYY-MM-DD HH:MM:SS" in UTC, form-encoded.
    start_date = os.date("!%Y-%m-%d+%H%%3A%M%%3A%S", now)
  end
  local sid = string.format("CA%04x%04x%s%012x", math.random(0, 65535), math.random(0, 65535), sid_prefix, counter)
  -- GA client ids are "<random>.<first visit, unix seconds>".
  local client_id = string.format("%d%09d.%d", tid + 1, counter % 1000000000, now - 86400)
  local body = part_head .. sid
    .. part_date .. start_date
    .. part_call .. sid
    .. part_session .. client_id
    .. part_tail
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"non_2xx":%d,"socket_errors":%d,"nonce":"%s"}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, run_nonce or ""))
end
