package redis

import (
	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/jsonenc"
	"github.com/callforward/callforward/forwarder/store"
)

// callSize and newRecordSize are about the lengths of a call with most
// of its fields and of a pending record of a delivery planned by rules of
// the usual size, its delivery escaped, so that the buffer Accept encodes
// into is allocated once.
const (
	callSize      = 1536
	newRecordSize = 768
)

// appendNewRecord appends to dst the pending record of delivery d planned
// at due, the bytes json.Marshal writes for
//
//	record{Delivery: string(json.Marshal(d)), State: store.JobPending,
//		Due: due, Dest: d.Destination, Tally: noOutcome}
//
// written without reflection (see store.AppendDelivery): the delivery is
// encoded into scratch, then escaped into the record as a JSON string. It
// returns the extended dst and scratch, for reuse; it fails where
// json.Marshal fails, and dst is then returned as it was.
func appendNewRecord(dst, scratch []byte, d *forwarder.Delivery, due string) (out, scratchOut []byte, err error) {
	dj, err := store.AppendDelivery(scratch[:0], d)
	if err != nil {
		return dst, scratch, err
	}
	b := append(dst, `{"delivery":"`...)
	b = jsonenc.AppendBytesContent(b, dj)
	b = append(b, `","state":`...)
	b = jsonenc.AppendString(b, string(store.JobPending))
	b = append(b, `,"attempts":0,"due":`...)
	b = jsonenc.AppendString(b, due)
	if d.Destination != "" {
		b = append(b, `,"dest":`...)
		b = jsonenc.AppendString(b, d.Destination)
	}
	b = append(b, `,"tally":`...)
	b = jsonenc.AppendString(b, noOutcome)
	return append(b, '}'), dj, nil
}
