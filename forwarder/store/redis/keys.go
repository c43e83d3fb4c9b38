package redis

import (
	"fmt"
	"strconv"
	"time"
)

// keys are the names of every key of one store. They all carry the hash
// tag {prefix}, so on Redis Cluster they live in one slot and every
// script may touch all of them.
type keys struct {
	dedup      string // hash: Call.Sid → latest accepted-at and the marks of its events
	calls      string // hash: Call.Sid → forwarder.Call JSON
	accepted   string // lex index: accepted-at + Call.Sid
	jobs       string // hash: Delivery.ID → job record
	ids        string // lex index: Delivery.ID (the jobs written before plans, for Jobs)
	plans      string // hash: Call.Sid → JSON array of the IDs of its jobs (plan.go)
	due        string // lex index: DueAt + Delivery.ID (pending jobs)
	done       string // lex index: done-at + Delivery.ID
	dead       string // lex index: buried-at + Delivery.ID
	dropped    string // lex index: dropped-at + Delivery.ID (tombstones of dropped dead letters)
	rejected   string // hash: At + Rejected.ID → store.Rejected JSON
	rejectedAt string // lex index: At + Rejected.ID
	heartbeat  string // string: written by Ping
	callers    string // lex index: caller key + call time (caller history)
	callersAt  string // lex index: call time + caller key (expiry index of callers)
	polls      string // hash: request id → poll record (diagnostics.go)
	pollsDue   string // lex index: DueAt + request id (pending polls; claimed ones under their lease end)
	pollsSent  string // lex index: SentAt + request id (PollStats)
	tallies    string // hash: tally key → count (tally.go)
	tallyHours string // hash: unix hour → calls last accepted in it
	tallyMark  string // hash: what of a store written before the tallies is counted
}

// newKeys returns the key names under prefix.
func newKeys(prefix string) keys {
	tag := "{" + prefix + "}"
	k := func(name string) string { return tag + ":" + name }
	return keys{
		dedup:      k("dedup"),
		calls:      k("calls"),
		accepted:   k("accepted"),
		jobs:       k("jobs"),
		ids:        k("ids"),
		plans:      k("plans"),
		due:        k("due"),
		done:       k("done"),
		dead:       k("dead"),
		dropped:    k("dropped"),
		rejected:   k("rejected"),
		rejectedAt: k("rejected:at"),
		heartbeat:  k("heartbeat"),
		callers:    k("callers"),
		callersAt:  k("callers:at"),
		polls:      k("polls"),
		pollsDue:   k("polls:due"),
		pollsSent:  k("polls:sent"),
		tallies:    k("tallies"),
		tallyHours: k("tally:hours"),
		tallyMark:  k("tally:mark"),
	}
}

// timeLen is the length of an encoded time.
const timeLen = 16

// signBit flips the sign of unix nanoseconds so that times before 1970
// sort before the ones after.
const signBit = 1 << 63

// encodeTime returns t as 16 lower-case hex digits that sort, as bytes,
// like t: the index members start with it, so that ZRANGEBYLEX walks them
// in time order with nanosecond precision (a sorted set score, a double,
// holds unix nanoseconds only to about a quarter microsecond).
func encodeTime(t time.Time) string {
	return fmt.Sprintf("%016x", uint64(t.UnixNano())^signBit)
}

// decodeTime reads a time written by encodeTime, in UTC.
func decodeTime(s string) (time.Time, error) {
	if len(s) != timeLen {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	n, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return time.Unix(0, int64(n^signBit)).UTC(), nil
}

// upTo returns the ZRANGEBYLEX upper bound that takes every index member
// whose time is at or before t.
func upTo(t time.Time) string {
	return "(" + encodeTime(t.Add(time.Nanosecond))
}
