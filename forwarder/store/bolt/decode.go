package bolt

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// recordTail decodes the members of a job record that follow its
// delivery, from the comma before "attempts" to the record's closing
// brace, when they are laid out exactly as appendRawRecord writes them:
// the members in their order, no space, no escaped or invalid string,
// integers without fraction or exponent. It reports false for anything
// else, which decodeRawRecord then leaves to encoding/json: what it
// decodes, encoding/json decodes alike.
func recordTail(v []byte, rec *rawRecord) bool {
	p := tailParser{v: v}
	j := &rec.Job
	var ok bool
	if !p.lit(`,"attempts":`) {
		return false
	}
	if j.Attempts, ok = p.int(); !ok || !p.lit(`,"due_at":`) || !p.time(&j.DueAt) {
		return false
	}
	if p.lit(`,"last_error":`) && !p.str(&j.LastError) {
		return false
	}
	if p.lit(`,"lease":`) && !p.str(&j.Lease) {
		return false
	}
	if p.lit(`,"history":[`) {
		for {
			var a store.Attempt
			if !p.lit(`{"at":`) || !p.time(&a.At) || !p.lit(`,"took":`) {
				return false
			}
			took, ok := p.int()
			if !ok || !p.lit(`,"result":`) || !p.str(&a.Result) {
				return false
			}
			a.Took = time.Duration(took)
			if p.lit(`,"code":`) && !p.str(&a.Code) {
				return false
			}
			if p.lit(`,"error":`) && !p.str(&a.Error) {
				return false
			}
			if p.lit(`,"request_id":`) && !p.str(&a.RequestID) {
				return false
			}
			if !p.lit(`}`) {
				return false
			}
			j.History = append(j.History, a)
			if p.lit(`]`) {
				break
			}
			if !p.lit(`,`) {
				return false
			}
		}
	}
	if p.lit(`,"verdict":{"outcome":`) {
		var vd forwarder.Verdict
		var outcome string
		if !p.str(&outcome) {
			return false
		}
		vd.Outcome = forwarder.Outcome(outcome)
		if p.lit(`,"reason":`) && !p.str(&vd.Reason) {
			return false
		}
		if p.lit(`,"note":`) && !p.str(&vd.Note) {
			return false
		}
		if !p.lit(`}`) {
			return false
		}
		j.Verdict = &vd
	}
	var state string
	if !p.lit(`},"state":`) || !p.str(&state) {
		return false
	}
	rec.State = store.JobState(state)
	if p.lit(`,"settled":`) && !p.time(&rec.Settled) {
		return false
	}
	if p.lit(`,"reason":`) && !p.str(&rec.Reason) {
		return false
	}
	if p.lit(`,"code":`) && !p.str(&rec.Code) {
		return false
	}
	if p.lit(`,"kind":`) && !p.str(&rec.Kind) {
		return false
	}
	if p.lit(`,"request":`) && !p.str(&rec.Request) {
		return false
	}
	return p.lit(`}`) && p.i == len(p.v)
}

// tailParser reads a record's tail (recordTail) from v, at i.
type tailParser struct {
	v []byte
	i int
}

// lit consumes s when the input continues with it.
func (p *tailParser) lit(s string) bool {
	if len(p.v)-p.i < len(s) || string(p.v[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// quoted consumes a JSON string that encoding/json decodes to its bytes
// as they are (no escape, no control character, valid UTF-8) and returns
// those bytes.
func (p *tailParser) quoted() ([]byte, bool) {
	if p.i >= len(p.v) || p.v[p.i] != '"' {
		return nil, false
	}
	start, ascii := p.i+1, true
	for i := start; i < len(p.v); i++ {
		switch c := p.v[i]; {
		case c == '"':
			s := p.v[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			p.i = i + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// str consumes a string (quoted) into *s.
func (p *tailParser) str(s *string) bool {
	b, ok := p.quoted()
	if ok {
		*s = string(b)
	}
	return ok
}

// time consumes a time as time.Time.UnmarshalJSON reads it.
func (p *tailParser) time(t *time.Time) bool {
	start := p.i
	if _, ok := p.quoted(); !ok {
		return false
	}
	return t.UnmarshalJSON(p.v[start:p.i]) == nil
}

// int consumes an integer as JSON writes one (an optional minus, no
// leading zero) that fits an int64, as encoding/json decodes it into an
// int or a time.Duration.
func (p *tailParser) int() (int, bool) {
	start := p.i
	i := start
	if i < len(p.v) && p.v[i] == '-' {
		i++
	}
	digits := i
	for i < len(p.v) && p.v[i] >= '0' && p.v[i] <= '9' {
		i++
	}
	if i == digits || (p.v[digits] == '0' && i > digits+1) {
		return 0, false
	}
	if i < len(p.v) && (p.v[i] == '.' || p.v[i] == 'e' || p.v[i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.v[start:i]), 10, 64)
	if err != nil || int64(int(n)) != n {
		return 0, false
	}
	p.i = i
	return int(n), true
}
