// Package bolt is the embedded default store: one bbolt file on local disk,
// owned by one process.
//
// # Layout
//
// Every value is JSON, those of calls and jobs stored compressed against a
// fixed dictionary (value.go: a header names the format and the
// dictionary; plain JSON, as earlier releases wrote it, still reads);
// every index key that must sort by time starts with the time as 8
// big-endian bytes (unix nanoseconds with the sign bit flipped, so that
// times before 1970 sort too), followed by an ID. Those indexes grow at
// their end and fill their pages before splitting them; the buckets keyed
// by Sid keep bbolt's half-full split, as their keys land anywhere.
//
//	jobs      Call.Sid + NUL → dedup marks (latest accepted-at, then accepted-at and name of
//	          each event), then forwarder.Call (the latest event accepted; a Call.Complete is
//	          kept) (dedup.go); the key sorts right before the call's jobs:
//	          Delivery.ID → job record (the job, its state, when it settled, why it died),
//	          or, once done, a done mark: 9 bytes that say when (donemark.go)
//	calls     Call.Sid → forwarder.Call       (as earlier releases kept it: read, moved, swept)
//	dedup     Call.Sid → dedup marks          (as earlier releases kept them: read, moved, swept)
//	accepted  latest accepted-at + Call.Sid → nil  (expiry index for the calls and their marks)
//	due       DueAt + Delivery.ID → nil       (pending jobs only; claimed ones under their lease end)
//	done      done-at + Delivery.ID → done record (in the order jobs settle, for Sweep)
//	dead      buried-at + Delivery.ID → nil   (dead letters, newest last)
//	dropped   dropped-at + Delivery.ID → nil  (tombstones of dropped dead letters, for Sweep)
//	rejected  At + Rejected.ID → store.Rejected
//	meta      heartbeat written by Ping
//	callers   caller key + call time → nil   (caller history, see PreviousCall)
//	callers-at  call time + caller key → nil (expiry index of callers)
//	polls       request id → store.Poll      (pending Data Manager polls, diagnostics.go)
//	polls-due   DueAt + request id → nil     (claimed ones under their lease end)
//	polls-sent  SentAt + request id → nil    (PollStats' oldest)
//	tallies     tally key → count            (store.Tallies, tally.go)
//	tally-hours UTC hour → calls last accepted in it
//	counts      "calls", "rejected" → count  (Stats)
//
// A done record, kept for the whole dedup window, lives in the done
// index, whose pages fill in the order jobs settle, and leaves a done mark
// under its ID in the jobs bucket, whose keys land anywhere and whose
// pages therefore stay partly empty. It is stored without what
// its key gives back: its delivery's ID, call, rule and destination are
// replaced by "id":0 (compact.go) when the delivery's ID is the key and
// the key splits unambiguously, at its only two '/', into the delivery's
// call, rule and destination. Every read of a job from the jobs bucket
// goes through decodeJob, which puts them back from the key, so every reader decodes
// the full record, byte for byte; a full done record, as earlier releases
// wrote it, reads as it is. The record keeps everything else, the due
// time of its last claim included (Jobs reports it).
//
// A job record also keeps the job's attempt history and Google's verdict,
// the kind of a dead letter (send or processing), and the request id that
// AckPolled acknowledged it with, which ResolvePoll checks. AckPolled
// writes the acks and the poll in one transaction. Sweep leaves the polls
// alone: a poll goes when ResolvePoll records its verdicts. ListCalls
// walks accepted backwards from its cursor and reads each call's jobs by
// prefix; with a filter on state, rule or destination it judges a call
// on the few fields of its jobs the filter reads, and decodes only the
// calls it keeps.
//
// # Tallies
//
// Every write of a job record, of the accepted index, of a call and of a
// rejected request changes the counts of the tallies and of Stats in the
// same transaction (tally.go), so Tallies and Stats read a few small
// keys whatever the store holds. A store written before them is counted
// once, by Open, in its transaction.
//
// Claim is a cursor walk from the start of due up to now: the oldest due
// jobs come first and the cost does not grow with the number of done or
// dead jobs. A claim moves the job's due key to the end of its lease, so
// a job whose worker died becomes due again by itself. Jobs looks up the
// jobs of a call by the prefix "Call.Sid/" of their IDs, which
// forwarder.DeliveryID guarantees; Accept refuses deliveries of another
// call.
//
// # Durability and group commit
//
// Every write is a bbolt transaction that is fsynced before the method
// returns (NoSync is never set), so when Accept returns nil the call and
// its jobs survive a crash or power cut. Every write of the store (Accept,
// Reject, and the queue's Claim, Ack, AckMany, Retry, Bury) goes through
// one committer (commit.go) that waits for no delay: a write commits at
// once when no transaction is running, or else in the next one together
// with writes that arrived meanwhile (at most 1,000), so a busy store
// commits in few large transactions, one fsync each, and a quiet one
// answers in one fsync. Intake comes first: Accept and Reject queue apart
// from the queue's writes, and each transaction takes every intake write
// waiting but only a budget of the queue's (counted in B-tree nodes
// dirtied, at least one write), so an accept never waits behind a
// transaction full of claims and settlements, and the queue still moves
// by at least one write per transaction. While webhooks flow, the queue's
// writes wait up to 2 ms for one to share its transaction rather than
// commit alone, so an accept seldom finds a transaction of theirs
// running. (bbolt's own DB.Batch is not
// used: it closes a batch after a fixed delay, so under load many small
// batches queue up behind the write lock, each paying its own fsync.)
// AckMany settles all
// its jobs in one transaction, and Claim and the settlements read and
// rewrite the job records with their deliveries left encoded, decoding
// and encoding the rest of a record directly (recordTail,
// appendRawRecord); Ack and AckPolled encode, compact and compress each done
// record before the transaction, from the job in hand, and write it when
// the record they read agrees. Claim likewise reads the jobs due first,
// in a read transaction, and makes, encodes and compresses their leased
// records and decodes their deliveries there; its write transaction
// writes a prepared record where the stored one is unchanged byte for
// byte, and rewrites any other itself. The
// committer may run a function more than once (alone, when another write
// of its transaction failed), so each function recomputes its outcome from
// the transaction it is given and reports domain results (duplicate, lease
// lost) through a variable, never as the transaction's error, which would
// send it to be re-run alone and cost the rest of the batch a second
// commit.
//
// # One process
//
// bbolt holds an exclusive file lock while the file is open. A second Open
// of the same file, by this or another process, fails after a short wait
// with ErrInUse. Because the lock makes this process the only possible
// owner of every lease, Open makes every job and poll still under a lease
// due at once: those claims belonged to a process that is gone. Scaling out
// across machines is the Redis store's job.
//
// # Retention
//
// Dedup marks, calls, done marks, tombstones and rejected requests older
// than the dedup window are removed by Sweep (a call's marks go with it,
// once its latest event is that old). Whether Sweep ran or not, Accept
// judges a dedup mark or a done mark by its age, so results never depend
// on when the last sweep happened. Pending jobs and dead letters are never
// swept: they are not settled. Caller history entries are swept once
// older than their own retention (store.Options.CallerHistory), and
// PreviousCall judges them by age too.
//
// # Caller history
//
// A caller key is a fixed-length hash (forwarder.CallerKey), so the
// entries of one caller are the keys with that prefix, in time order:
// PreviousCall is one cursor Seek to the caller key and the time asked
// about, and one step back. Keeping every call rather than only the
// newest keeps the answer right when webhooks arrive out of order.
//
// # Memory
//
// bbolt reads the file through a read-only shared memory map, so every
// page a transaction reads stays in the process's resident set (as
// file-backed RSS) until the kernel reclaims it. KeepMappedLow, which
// serve runs, gives those pages back (ReleaseMapped: madvise
// MADV_DONTNEED, inside a read transaction so the map cannot move) as
// they accumulate and once reading stops: under load the process holds
// about 8 MiB of the file beyond what its latest transactions read,
// however large the file, and once idle none of it. The pages stay in
// the page cache; reading one again is a minor fault (mapped.go).
package bolt
