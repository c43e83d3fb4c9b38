package ga4

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// Measurement Protocol limits on one request, and how long the delivery
// workers wait for the companions of an event.
const (
	// MaxBatch is the most events one request carries.
	MaxBatch = 25
	// MaxBodyBytes bounds a request body: it must be smaller than 130 kB.
	MaxBodyBytes = 130_000
	// BatchWindow is how long the delivery workers hold an event for
	// others that may share its request. The events of one call are
	// planned together and claimed together, so they are gathered within
	// one claim round; the window only has to cover a call whose events
	// straddle two rounds. Events of different calls rarely share a client
	// id, so waiting longer gains little and delays every event.
	BatchWindow = 100 * time.Millisecond
)

// encodeFields returns the JSON object of the request-level fields of ev
// but the time and the events: client_id, user_properties and consent.
// Deliveries whose fields encode alike (for one measurement id, and so one
// API secret) may share a request.
func encodeFields(ev *forwarder.GA4Event) ([]byte, error) {
	return appendTail(appendClientID(make([]byte, 0, 64), ev), ev)
}

// BatchKey returns the key of deliveries that may share a request: same
// measurement id (which names the API secret), same client id and same
// user properties, the request-level fields that apply to every event of a
// request; the consent too. The key is a hash: it holds no client id. A delivery without a
// GA4 event gets "", and one whose user properties cannot be encoded a key
// of its own (it is refused when sent).
func BatchKey(d forwarder.Delivery) string {
	ev := d.GA4
	if ev == nil {
		return ""
	}
	// Hashed: measurement id, 0, then the fields' encoding, or 1 and the
	// delivery id when they have none.
	var buf [512]byte
	b := append(buf[:0], ev.MeasurementID...)
	b = append(b, 0)
	if fields, err := appendTail(appendClientID(b, ev), ev); err == nil {
		b = fields
	} else {
		b = append(b[:len(ev.MeasurementID)+1], 1)
		b = append(b, d.ID...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// request is one Measurement Protocol request: the deliveries it carries
// (indexes into the caller's slice, in order) and its body.
type request struct {
	mid, secret, clientID string
	idx                   []int
	body                  []byte
}

// planned is a delivery that passed the local checks, encoded for a
// request with several events.
type planned struct {
	i     int
	ts    int64
	event []byte
}

// batchGroup gathers the deliveries that may share requests.
type batchGroup struct {
	mid, secret, clientID string
	fields                []byte
	items                 []planned
}

// plan checks every delivery of ds and packs those Google could record
// into requests of at most MaxBatch events and fewer than MaxBodyBytes
// bytes, each for one batch key; errs holds the refusal of each delivery
// that is not sent (index-aligned, nil for the others). A request with one
// event is the body of BuildPayload. In a request with several, each event
// carries its own timestamp_micros (the send time when its time is unknown
// or in the future), and the request's timestamp_micros is the earliest of
// them, so that the user properties, which the request carries for all its
// events, date from no later than any of them, as in a request of one.
func (s *Sender) plan(op string, ds []forwarder.Delivery, now time.Time) ([]request, []error) {
	errs := make([]error, len(ds))
	groups := map[string]*batchGroup{}
	var order []*batchGroup
	for i, d := range ds {
		p, fields, secret, err := s.prepare(op, d, now)
		if err != nil {
			errs[i] = err
			continue
		}
		p.i = i
		key := d.GA4.MeasurementID + "\x00" + string(fields)
		g, ok := groups[key]
		if !ok {
			g = &batchGroup{mid: d.GA4.MeasurementID, secret: secret, clientID: d.GA4.ClientID, fields: fields}
			groups[key] = g
			order = append(order, g)
		}
		g.items = append(g.items, p)
	}
	var reqs []request
	for _, g := range order {
		var cur []planned
		var eventBytes int
		var first int64
		for _, p := range g.items {
			if batchBodySize(len(g.fields), 1, len(p.event), p.ts) >= MaxBodyBytes {
				// Too large to share a request: alone, or refused.
				reqs = s.appendRequest(reqs, errs, ds, g, []planned{p}, now)
				continue
			}
			if len(cur) > 0 && (len(cur) == MaxBatch ||
				batchBodySize(len(g.fields), len(cur)+1, eventBytes+len(p.event), min(first, p.ts)) >= MaxBodyBytes) {
				reqs = s.appendRequest(reqs, errs, ds, g, cur, now)
				cur, eventBytes = nil, 0
			}
			if len(cur) == 0 || p.ts < first {
				first = p.ts
			}
			cur = append(cur, p)
			eventBytes += len(p.event)
		}
		reqs = s.appendRequest(reqs, errs, ds, g, cur, now)
	}
	return reqs, errs
}

// prepare applies the local checks to d and encodes its event for a
// request with several; it returns the request-level fields and the API
// secret. The checks come in the order a request of one meets them.
func (s *Sender) prepare(op string, d forwarder.Delivery, now time.Time) (planned, []byte, string, error) {
	d = d.CleanTexts()
	ts, err := checkEvent(d, now)
	if err != nil {
		return planned{}, nil, "", err
	}
	ev := d.GA4
	fields, err := encodeFields(ev)
	if err != nil {
		return planned{}, nil, "", forwarder.Permanent("bad_params", fmt.Errorf("ga4: delivery %s: encode payload: %w", d.ID, err))
	}
	if ts == 0 {
		ts = now.UnixMicro()
	}
	event, err := appendEvent(make([]byte, 0, 256), ev, true, ts)
	if err != nil {
		return planned{}, nil, "", forwarder.Permanent("bad_params", fmt.Errorf("ga4: delivery %s: encode payload: %w", d.ID, err))
	}
	mid := ev.MeasurementID
	if mid == "" {
		return planned{}, nil, "", forwarder.Permanent("no_measurement_id", fmt.Errorf("%s: delivery %s has no measurement id", op, d.ID))
	}
	secret, ok := s.secrets[mid]
	if !ok || secret == "" {
		return planned{}, nil, "", forwarder.Permanent("no_api_secret", fmt.Errorf("%s: delivery %s: no api secret for measurement id %s in credentials", op, d.ID, mid))
	}
	return planned{ts: ts, event: event}, fields, secret, nil
}

// appendRequest appends the request carrying items (none: nothing) to
// reqs. A lone event too large for a request is refused in errs.
func (s *Sender) appendRequest(reqs []request, errs []error, ds []forwarder.Delivery, g *batchGroup, items []planned, now time.Time) []request {
	if len(items) == 0 {
		return reqs
	}
	r := request{mid: g.mid, secret: g.secret, clientID: g.clientID, idx: make([]int, len(items))}
	for j, p := range items {
		r.idx[j] = p.i
	}
	if len(items) > 1 {
		r.body = encodeBatch(g.fields, items)
		return append(reqs, r)
	}
	i := items[0].i
	body, err := BuildPayload(ds[i], now)
	switch {
	case err != nil:
		errs[i] = err
		return reqs
	case len(body) >= MaxBodyBytes:
		errs[i] = forwarder.Permanent("payload_too_large", fmt.Errorf(
			"ga4: delivery %s: the request would be %d bytes; GA4 accepts less than %d", ds[i].ID, len(body), MaxBodyBytes))
		return reqs
	}
	r.body = body
	return append(reqs, r)
}

// Pieces of a request with several events, around the request-level
// fields' object: {fields,"timestamp_micros":T,"events":[e1,e2]}.
const (
	batchTimeKey   = `,"timestamp_micros":`
	batchEventsKey = `,"events":[`
	batchEnd       = `]}`
)

// batchBodySize returns the length of the body of a request with n events
// whose encodings add up to eventBytes, the earliest at time first, and
// request-level fields encoded in fieldBytes.
func batchBodySize(fieldBytes, n, eventBytes int, first int64) int {
	return fieldBytes - 1 + len(batchTimeKey) + len(strconv.FormatInt(first, 10)) +
		len(batchEventsKey) + eventBytes + n - 1 + len(batchEnd)
}

// encodeBatch returns the body of a request carrying items: the
// request-level fields (a JSON object), the earliest event time and the
// events, each with its own time.
func encodeBatch(fields []byte, items []planned) []byte {
	first, eventBytes := items[0].ts, 0
	for _, p := range items {
		first = min(first, p.ts)
		eventBytes += len(p.event)
	}
	b := make([]byte, 0, batchBodySize(len(fields), len(items), eventBytes, first))
	b = append(b, fields[:len(fields)-1]...)
	b = append(b, batchTimeKey...)
	b = strconv.AppendInt(b, first, 10)
	b = append(b, batchEventsKey...)
	for j, p := range items {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, p.event...)
	}
	return append(b, batchEnd...)
}
