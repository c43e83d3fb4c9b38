package bolt

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// The values of the calls and jobs buckets are JSON documents (a
// forwarder.Call, a record, a done record compact: compact.go), most of
// whose bytes are field names and values every record shares. They are stored compressed against a
// dictionary of those: a third of the JSON, and a third of the pages.
//
// An encoded value is either
//
//	'{' ...                  the JSON itself, as every release before this
//	                         one wrote it, and as this one writes a value
//	                         that does not compress
//	valueS2 dictID block     an S2 block of the JSON, compressed with the
//	                         dictionary dictID
//	valueDone settled        in the jobs bucket, a done mark: the record is
//	                         in the done index (donemark.go)
//	valueMarked n marks call in the calls bucket, the Sid's dedup marks
//	                         and the call, itself one of the above (dedup.go)
//
// A dictionary, once a release has written values with it, is read for as
// long as the store lives: it never changes. A better one is added under
// a new id (and written from then on); the old stays for reading.
const (
	// valueS2 starts a value compressed by S2 with a dictionary.
	valueS2 byte = 0x01
	// dictRecords1 is the id of the first dictionary, of the calls and
	// job records (dictRecords1Text).
	dictRecords1 byte = 1
	// valueHeader is the length of a compressed value's header.
	valueHeader = 2
	// maxValue bounds the JSON a compressed value may claim to hold, so
	// that a damaged header cannot make a read allocate without bound.
	maxValue = 64 << 20
)

// writeDict is the dictionary values are written with.
const writeDict = dictRecords1

// dicts are the dictionaries by id: the one written with and every one
// written with before.
var dicts = map[byte]*s2.Dict{
	dictRecords1: s2.MakeDictManual([]byte(dictRecords1Text), dictRecords1Start),
}

// errValue reports a value that cannot be read.
var errValue = errors.New("unreadable stored value")

// encodeValue returns the stored form of the JSON document v: compressed
// when that is shorter, v itself otherwise. It compresses on a compressor
// (compress.go); a caller with several values hands them over together
// (compressEach).
func encodeValue(v []byte) []byte {
	var out []byte
	compress(func() { out = compressValue(v) })
	return out
}

// compressValue is encodeValue on a compressor: it must run in a function
// given to compress (compress.go), for S2 keeps a 64 KiB table on the
// stack of its caller.
func compressValue(v []byte) []byte {
	d := dicts[writeDict]
	if s2.MaxEncodedLen(len(v)) < 0 {
		return v // too large for a block; no record is
	}
	out := make([]byte, valueHeader+s2.MaxEncodedLen(len(v)))
	out[0], out[1] = valueS2, writeDict
	// Encode writes from the start of the slice it is given.
	out = out[:valueHeader+len(d.Encode(out[valueHeader:], v))]
	if len(out) >= len(v) && len(v) > 0 && v[0] == '{' {
		return v
	}
	return out
}

// decodeValue returns the JSON document the stored value v holds: v
// itself when it is JSON (as every earlier release wrote it), a new slice
// when it was compressed. A nil v stays nil.
func decodeValue(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] == '{' {
		return v, nil
	}
	if v[0] != valueS2 || len(v) < valueHeader {
		return nil, fmt.Errorf("%w: format %#x unknown (written by a later release?)", errValue, v[0])
	}
	d := dicts[v[1]]
	if d == nil {
		return nil, fmt.Errorf("%w: dictionary %d unknown (written by a later release?)", errValue, v[1])
	}
	block := v[valueHeader:]
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errValue, err)
	}
	if n > maxValue {
		return nil, fmt.Errorf("%w: %d bytes claimed", errValue, n)
	}
	out, err := d.Decode(nil, block)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errValue, err)
	}
	return out, nil
}
