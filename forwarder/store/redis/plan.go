package redis

// A call's jobs are found through its plan: the plans hash holds, under
// each Call.Sid, the JSON array of the IDs of the call's jobs, one field
// per call however many jobs it has. Accept and Replan add the IDs of the
// jobs they write; Sweep takes out the ID of each job it removes and the
// field with its last one. Every ID in a plan has a record.
//
// A store written before the plans lists its jobs in the ids index
// instead, one member per job (Delivery.ID, score 0): Jobs and ListCalls
// read both, and Sweep takes a job out of both, so the jobs written by
// either release are found until they are swept, with nothing to migrate.
// A job in both (written again by this release after its done mark
// expired) is listed once.

// luaPlan is the Lua helpers of the plans: addPlan(h, sid, ids) adds the
// IDs ids, those it does not hold yet, to the plan of sid in the hash h;
// dropPlan(h, sid, id) takes id out of the plan of sid, and the plan out
// of h with its last ID; planned(ids, h, sid, from, to) returns the IDs
// of the jobs of sid: those of the ids index between the lex bounds from
// and to (the jobs written before plans), then those of its plan not
// among them, and how many came from the index.
//
// An ID of a plan without a record is passed over by the readers rather
// than taken for damage: an instance of the release before plans,
// sweeping the store while this one writes to it, removes records
// without taking them out of their plans.
const luaPlan = `
local function addPlan(h, sid, ids)
  if #ids == 0 then return end
  local v = redis.call('HGET', h, sid)
  local list, seen = {}, {}
  if v then
    list = cjson.decode(v)
    for _, id in ipairs(list) do seen[id] = true end
  end
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      list[#list + 1] = id
    end
  end
  redis.call('HSET', h, sid, cjson.encode(list))
end
local function dropPlan(h, sid, id)
  local v = redis.call('HGET', h, sid)
  if not v then return end
  local list = {}
  for _, x in ipairs(cjson.decode(v)) do
    if x ~= id then list[#list + 1] = x end
  end
  if #list == 0 then
    redis.call('HDEL', h, sid)
  else
    redis.call('HSET', h, sid, cjson.encode(list))
  end
end
local function planned(index, h, sid, from, to)
  local ids = redis.call('ZRANGEBYLEX', index, from, to)
  local n = #ids
  local v = redis.call('HGET', h, sid)
  if v then
    local seen = {}
    for _, id in ipairs(ids) do seen[id] = true end
    for _, id in ipairs(cjson.decode(v)) do
      if not seen[id] then ids[#ids + 1] = id end
    end
  end
  return ids, n
end
`
