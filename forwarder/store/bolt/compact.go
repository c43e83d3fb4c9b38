package bolt

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/jsonenc"
	"github.com/callforward/callforward/forwarder/store"
)

// A done mark is kept for the whole dedup window, seven of them a call
// with the benchmark rules, so they are most of the jobs bucket. The first
// members of a record's delivery (its ID, call, rule and destination) are
// its key spelled out again: forwarder.DeliveryID joins them with '/'. So
// a done record whose delivery starts with exactly what its key gives
// back is stored compact, those four members replaced by an ID of 0:
//
//	full     {"job":{"delivery":{"id":"S/R/D","call_sid":"S","rule":"R","destination":"D","type":...
//	compact  {"job":{"delivery":{"id":0,"type":...
//
// Every read of a job from the jobs bucket goes through decodeJob, which puts the
// members back from the key, so what a reader decodes is the full JSON,
// byte for byte: the splice is undone by the same function of the key that
// made it (keyHead). A key is used only when it splits unambiguously: valid
// UTF-8 (so that its JSON spelling is its own) with exactly two '/' (so
// that no '/' of the call, the rule or the destination moves it). Any other
// record, and any done record whose delivery does not start so (a key
// with more '/', fields that disagree with it), is stored full. An ID of 0
// is no string, so a decoder of the whole delivery that skipped decodeJob
// would fail rather than read an empty ID (one of a few of its fields, as
// the tallies' and the filters' are, would not notice: hence one decoder
// for every read). A full record, as every earlier release wrote it, reads
// as it is.

// compactHead starts a compact record.
var compactHead = []byte(`{"job":{"delivery":{"id":0,`)

// keyHead appends to dst what the compact head stands for under key id:
// the start of the record up to and including the comma after the
// delivery's destination, as encoding/json writes it. ok is false when
// id does not split unambiguously into call, rule and destination.
func keyHead(dst, id []byte) (head []byte, ok bool) {
	if bytes.Count(id, []byte("/")) != 2 || !utf8.Valid(id) {
		return dst, false
	}
	sid, rest, _ := bytes.Cut(id, []byte("/"))
	rule, dest, _ := bytes.Cut(rest, []byte("/"))
	b := appendQuoted(append(dst, `{"job":{"delivery":{"id":`...), id)
	b = appendQuoted(append(b, `,"call_sid":`...), sid)
	b = appendQuoted(append(b, `,"rule":`...), rule)
	b = appendQuoted(append(b, `,"destination":`...), dest)
	return append(b, ','), true
}

// appendQuoted appends s as a JSON string, as encoding/json writes it.
func appendQuoted(b, s []byte) []byte {
	return append(jsonenc.AppendBytesContent(append(b, '"'), s), '"')
}

// maxKeyHead is about the length of a key's head for the usual IDs (a
// 34-character Sid, names of a dozen characters), so that keyHead does
// not allocate.
const maxKeyHead = 192

// compactRecord returns the compact form of the encoded record v stored
// under id, or v itself when its delivery does not start with what id
// gives back. It does not change v.
func compactRecord(id, v []byte) []byte {
	var buf [maxKeyHead]byte
	head, ok := keyHead(buf[:0], id)
	if !ok || !bytes.HasPrefix(v, head) {
		return v
	}
	out := make([]byte, 0, len(compactHead)+len(v)-len(head))
	return append(append(out, compactHead...), v[len(head):]...)
}

// restoreRecord returns the full form of the encoded record v stored
// under id: v itself unless it is compact, a new slice otherwise.
func restoreRecord(id, v []byte) ([]byte, error) {
	if !bytes.HasPrefix(v, compactHead) {
		return v, nil
	}
	rest := v[len(compactHead):]
	out, ok := keyHead(make([]byte, 0, maxKeyHead+len(rest)), id)
	if !ok {
		return nil, fmt.Errorf("%w: compact record under a key that does not split into call, rule and destination", errValue)
	}
	return append(out, rest...), nil
}

// encodeJob returns the stored value of the encoded record v, of a job in
// state, under id: compact when done and its delivery allows, compressed
// (encodeValue).
func encodeJob(id []byte, state store.JobState, v []byte) []byte {
	return encodeValue(jobValue(id, state, v))
}

// jobValue is encodeJob before compressing: the record v as stored,
// compact when done and its delivery allows. A caller with several
// records compresses them together (compressEach).
func jobValue(id []byte, state store.JobState, v []byte) []byte {
	if state == store.JobDone {
		return compactRecord(id, v)
	}
	return v
}

// decodeJob returns the encoded record the value stored under id holds,
// full (see restoreRecord), reading a done record from done (the done
// index) when stored is its mark (donemark.go); nil for nil. Every read
// of the jobs bucket goes through it.
func decodeJob(done *bbolt.Bucket, id, stored []byte) ([]byte, error) {
	if key, ok := markedKey(id, stored); ok {
		if done == nil {
			return nil, fmt.Errorf("%w: a done mark read without the done index", errValue)
		}
		if stored = done.Get(key); stored == nil {
			return nil, fmt.Errorf("%w: its done record is missing", errValue)
		}
	}
	v, err := decodeValue(stored)
	if err != nil || v == nil {
		return v, err
	}
	return restoreRecord(id, v)
}
