// Package redis is the shared store: every instance of the service that
// points at the same Redis (standalone, Sentinel or Cluster) and prefix
// sees the same calls and the same queue, so the service scales out behind
// a load balancer and a crashed instance's work is finished by the others.
//
// # Design
//
// The store mirrors the bolt backend's proven layout instead of building
// the queue on Streams and a consumer group. The contract needs things
// Streams do not give: a lease that the settling worker must still hold
// (XACK accepts an ack from a worker whose message was reclaimed), jobs
// due at a future time, lookups of one job by ID, done marks judged by
// their age, and a clock that is the caller's (store.Options.Now), not
// the server's, so that the conformance suite crosses leases, retries and
// the dedup window without waiting. With one model, both backends behave
// alike down to the order of ties, and pass the same suite.
//
// Every write is one Lua script (EVALSHA, falling back to EVAL), so it is
// atomic: Accept checks the dedup mark and writes the mark, the call and
// the jobs, or writes nothing; Claim takes the due jobs and moves each to
// the end of its lease in the same step, so two instances never hand out
// the same job; Ack, Retry and Bury change nothing unless the job is
// pending under the very lease given; Replan adds the jobs a call lacks
// and leaves every existing one, claimed or not, as it is. Redis does not
// roll a failing script back, so each script reads and decides everything
// before its first write. The scripts of Accepts that wait together
// (webhooks that arrive at once) travel in one pipeline: one round trip
// and one socket read on the server for the group, each script still
// atomic on its own (group.go). Times come from Options.Now and reach the
// scripts as arguments; the server's TIME is never used. Instances must therefore
// keep their clocks in sync (NTP): an instance whose clock runs ahead
// claims jobs early by as much.
//
// # Layout
//
// Every key starts with the hash tag {prefix} (default {callforward}), so
// on Redis Cluster all keys of a store live in one slot and the scripts,
// which declare every key they touch, run there. The price is that one
// store lives on one shard: Cluster brings failover, not more throughput,
// which one Redis has to spare at webhook rates.
//
//	{p}:dedup        hash  Call.Sid → latest accepted-at, then {event: accepted-at} JSON (see acceptScript)
//	{p}:calls        hash  Call.Sid → forwarder.Call JSON (the latest event accepted; a Call.Complete is kept)
//	{p}:accepted     zset  accepted-at + Call.Sid   (expiry index of dedup and calls; CallSids)
//	{p}:jobs         hash  Delivery.ID → job record (state, attempts, lease, delivery JSON)
//	{p}:plans        hash  Call.Sid → JSON array of its jobs' Delivery.IDs (for Jobs by call)
//	{p}:ids          zset  Delivery.ID              (jobs written before plans, for Jobs by call)
//	{p}:due          zset  DueAt + Delivery.ID      (pending jobs; claimed ones under their lease end)
//	{p}:done         zset  done-at + Delivery.ID    (done marks, for Stats and Sweep)
//	{p}:dead         zset  buried-at + Delivery.ID  (dead letters)
//	{p}:dropped      zset  dropped-at + Delivery.ID (tombstones of dropped dead letters)
//	{p}:rejected     hash  At + Rejected.ID → store.Rejected JSON
//	{p}:rejected:at  zset  At + Rejected.ID
//	{p}:heartbeat    string, written by Ping
//	{p}:callers      zset  caller key + call time   (caller history, see PreviousCall)
//	{p}:callers:at   zset  call time + caller key   (expiry index of callers)
//	{p}:polls        hash  request id → poll record (pending Data Manager polls, diagnostics.go)
//	{p}:polls:due    zset  DueAt + request id       (claimed ones under their lease end)
//	{p}:polls:sent   zset  SentAt + request id      (PollStats' oldest)
//	{p}:tallies      hash  tally key → count        (store.Tallies, tally.go)
//	{p}:tally:hours  hash  unix hour → calls last accepted in it
//	{p}:tally:mark   hash  what of a store written before the tallies is counted
//
// The sorted sets are lexicographic indexes: every score is 0 and every
// member starts with its time as 16 hex digits that sort like the time.
// Scores would not do: a score is a double and holds unix nanoseconds only
// to about a quarter of a microsecond, while leases and retries are exact
// to the nanosecond. Claim is a ZRANGEBYLEX from the start of due up to
// now, oldest first; Stats counts with HLEN and ZCARD in one MULTI, so no
// counter can drift, and reads the earliest due time as the first member
// of due. Times read back are in UTC.
//
// A job record also keeps the job's attempt history and Google's verdict
// (each an opaque JSON string, like the delivery), the kind of a dead
// letter and the request id AckPolled acknowledged it with. AckPolled is
// one script run: the acks and the poll, or nothing. The polls keys never
// expire and Sweep leaves them alone: a poll goes when ResolvePoll
// records its verdicts. ListCalls is one script per page: a bounded
// ZREVRANGEBYLEX of accepted from the cursor, with each call and its jobs.
//
// # Tallies
//
// Every write script changes the tallies it affects in the same run
// (tally.go): a job record carries the destination and outcome it counts
// under, so a script takes its old counts off and adds the new ones. A
// store written before the tallies is counted once by Open, record by
// record, each record counted by whichever comes first, a write or the
// count, so several instances opening it together count each record
// once. Instances of an earlier release writing to the same store while
// it runs leave counts behind: upgrade them all.
//
// # Leases
//
// A claimed poll, like a claimed job, stays in its due index under the
// end of its lease (claimScript claims both), so one instance at a time
// holds it and it comes back by itself when its instance dies.
// A claimed job stays in due under the end of its lease, so when its
// worker dies it becomes due again by itself, for any instance. Unlike
// bolt, Open does not release leases: other live instances may hold them.
//
// # Durability
//
// When Accept returns nil the call is in the server's memory and its
// append-only file buffer; how durable it is depends on the server:
// appendonly yes with appendfsync everysec (the usual choice) may lose the
// last second of writes if the Redis machine dies, appendfsync always
// loses nothing at the cost of an fsync per write. Replication is
// asynchronous: a Sentinel or Cluster failover can lose the latest writes
// of the old master. Run Redis with maxmemory-policy noeviction: an
// evicting policy would silently drop calls and pending jobs; with
// noeviction a full server fails writes, and Ping reports it.
//
// # Retention
//
// Sweep removes, in chunks of one script each, the calls, dedup marks,
// done marks, tombstones and rejected requests older than the dedup
// window (a call's marks go with it, once its latest event is that old);
// pending jobs and dead letters are never swept. As with bolt, Accept judges
// dedup and done marks by their stored age, so results never depend on
// when Sweep last ran. On top of that, the keys that hold only expiring
// data (dedup, calls, accepted, rejected, rejected:at, heartbeat) get a
// TTL of the dedup window plus a day at every write. That is safe because
// nothing in such a key is newer than its last write: once the TTL runs
// out, everything in it has outlived the window. So a deployment that
// stops writing loses its personal data by itself, even if Sweep never
// runs again. The job keys (jobs, plans and the job indexes) never expire:
// they hold unsettled work. The caller history keys (callers, callers:at)
// follow the same rule with their own retention
// (store.Options.CallerHistory) plus a day.
//
// # Caller history
//
// A caller key is a fixed-length hash (forwarder.CallerKey), so one
// caller's members of callers are exactly those with its key as prefix, in
// time order, and PreviousCall is one ZREVRANGEBYLEX between the retention
// cutoff and the time asked about. One index for every caller, rather
// than a key per caller, keeps every key of the store declared in its
// scripts (as Redis Cluster wants) and lets Sweep expire callers who never
// call again.
package redis
