package bolt

import (
	"encoding/binary"
	"time"
)

// Bucket names.
var (
	bucketDedup     = []byte("dedup")
	bucketCalls     = []byte("calls")
	bucketAccepted  = []byte("accepted")
	bucketJobs      = []byte("jobs")
	bucketDue       = []byte("due")
	bucketDone      = []byte("done")
	bucketDead      = []byte("dead")
	bucketDropped   = []byte("dropped")
	bucketRejected  = []byte("rejected")
	bucketMeta      = []byte("meta")
	bucketCallers   = []byte("callers")
	bucketCallersAt = []byte("callers-at")
	bucketPolls     = []byte("polls")
	bucketPollsDue  = []byte("polls-due")
	bucketPollsSent = []byte("polls-sent")

	allBuckets = [][]byte{
		bucketDedup, bucketCalls, bucketAccepted, bucketJobs, bucketDue,
		bucketDone, bucketDead, bucketRejected, bucketMeta, bucketCallers,
		bucketCallersAt, bucketDropped, bucketPolls, bucketPollsDue, bucketPollsSent,
		bucketTallies, bucketTallyHours, bucketCounts,
	}

	keyHeartbeat = []byte("heartbeat")
)

// timeLen is the length of an encoded time.
const timeLen = 8

// signBit flips the sign of unix nanoseconds so that negative values sort
// before positive ones when compared as unsigned big-endian bytes.
const signBit = 1 << 63

// encodeTime returns t as 8 bytes that sort like t.
func encodeTime(t time.Time) []byte {
	b := make([]byte, timeLen)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano())^signBit)
	return b
}

// decodeTime reads the time at the start of b (which must hold at least
// timeLen bytes).
func decodeTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^signBit))
}

// timeKey returns the index key for id at t: encoded t, then id.
func timeKey(t time.Time, id string) []byte {
	k := make([]byte, timeLen+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano())^signBit)
	copy(k[timeLen:], id)
	return k
}

// keyID returns the id part of a time key.
func keyID(k []byte) string { return string(k[timeLen:]) }
