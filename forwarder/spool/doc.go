// Package spool keeps webhooks on local disk while the primary store (the
// shared Redis) cannot be reached, and moves them into it when it returns.
//
// Without a spool, a webhook that arrives during a Redis outage is answered
// 503 and the platform retries later. With one (--spool-dir), Store.Accept
// tries the primary first and, when the primary is unavailable, writes the
// call and its planned deliveries to a file of its own and answers as if
// the call had been stored; Store.Drain moves the files into the primary
// once it answers again.
//
// # Invariants
//
//   - A call acknowledged (Accept returned nil) is in the primary or in the
//     spool, durably, never in neither. A spool file is written to a
//     temporary file, fsynced, renamed to its final name and the directory
//     fsynced before Accept returns; a file leaves the spool only after the
//     primary took the call (nil) or already had it (store.ErrDuplicate),
//     so at every moment of a drain the call is in one or the other, and a
//     copy sent meanwhile is answered duplicate.
//   - No event of a Sid is accepted twice by the spool: there is one file
//     per event and Call.Sid (a call's Call.Initiate and Call.Complete
//     share its Sid), created under a lock after checking that none
//     exists, and Accept answers store.ErrDuplicate for an event of a Sid
//     that is still spooled, without asking the primary. A Sid the primary already holds from
//     before the outage may be spooled again (the spool cannot ask); the
//     primary answers duplicate when it is drained and the file is dropped.
//   - No double deliveries: the primary's dedup is the single judge. A crash
//     between the primary's Accept and the file's removal sends the file
//     again on the next round; the primary answers duplicate and the file is
//     dropped. The same holds when the primary took a call but its reply was
//     lost: the call is spooled, and the drain finds it duplicate.
//   - Files survive restarts: Open picks up the files left by an earlier
//     run and removes the temporary files a crash left mid-write (their
//     calls were never acknowledged).
//   - A file is never deleted unless the primary holds its call. A file the
//     primary refuses for a reason of its own, or one that cannot be read,
//     is logged and kept for an operator; it does not block the files
//     behind it.
//
// # Trade-offs
//
// The drain relies on the primary's dedup window (30 days by default): a
// file the primary holds already (sent before a crash, or a copy of a call
// it took before the outage) is a duplicate only within that window, so a
// spool left undrained for longer could deliver such a call twice.
//
// Once drained, a call is as durable as the primary makes it (for Redis,
// its append-only file settings): the spool hands its call over and keeps
// no copy.
//
// Every Accept tries the primary first, also during an outage, so each
// spooled webhook waits for the primary's client to give up (for go-redis,
// its dial retries). That keeps the spool out of the way as soon as the
// primary is back, at the price of slower replies while it is down.
//
// Files are moved oldest first by modification time (the time they were
// written), then by name; order is for fairness only, every call stands on
// its own.
//
// A file's name is derived from the Sid and the event, so that the
// duplicate check is one stat: "c-" + Sid + "@" + event + ".json", with ':'
// written as '+'. Sids outside the webhook's charset [A-Za-z0-9_.:-] (1 to
// 128 bytes) and events outside [A-Za-z.] are refused, so no name can
// leave the directory or hide as a dot file. Sids differing only
// in case get distinct files, so the directory must be on a case-sensitive
// file system (any Linux one).
//
// Spool files hold the same personal data as the primary (caller numbers,
// GA client ids, click ids): they are created 0600 in a directory made
// 0700, and log lines name calls by Sid only.
//
// One process owns a spool directory: Open takes an exclusive lock on a
// file in it (on Unix systems) and fails when another Store holds it, so
// two instances sharing a volume cannot remove each other's files.
//
// Every spooled call costs two fsyncs (file and directory), taken one
// Accept at a time for the rename and directory sync; that bounds the rate
// of spooling to what the disk can sync, ample for webhook traffic.
package spool
