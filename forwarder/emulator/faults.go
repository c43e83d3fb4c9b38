package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxHeldBody bounds the body read ahead of a held request; more than any
// API accepts, so the API handler still sees an oversized body as such.
const maxHeldBody = 1 << 20

// defaultFaultTimeout is how long a timeout fault holds a request when
// Faults.Timeout is zero: longer than a sender's usual client timeout.
const defaultFaultTimeout = 30 * time.Second

// Faults are the failures injected into API requests (control endpoints are
// never faulted). Each request draws once: with probability ErrorRate it
// gets a 500 or a 503 (half each), with RateLimitRate a 429 with
// Retry-After: 1, with TimeoutRate it is held for Timeout and then answered
// 504; with LostReplyRate it is served (what it carries is recorded) but
// its reply is lost: it is held for Timeout and answered 504, as when
// Google processed a request whose reply never came back; otherwise it is
// served normally. Delay is added to every answer.
type Faults struct {
	ErrorRate     float64
	RateLimitRate float64
	TimeoutRate   float64
	LostReplyRate float64
	// Timeout is how long a timeout fault holds the request (30 s when 0).
	Timeout time.Duration
	Delay   time.Duration
}

// faultsJSON is the wire form of Faults: durations as Go duration strings.
type faultsJSON struct {
	ErrorRate     float64 `json:"error_rate"`
	RateLimitRate float64 `json:"rate_limit_rate"`
	TimeoutRate   float64 `json:"timeout_rate"`
	LostReplyRate float64 `json:"lost_reply_rate,omitempty"`
	Timeout       string  `json:"timeout"`
	Delay         string  `json:"delay"`
}

// MarshalJSON encodes f with snake_case names and durations such as "1.5s".
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		ErrorRate: f.ErrorRate, RateLimitRate: f.RateLimitRate, TimeoutRate: f.TimeoutRate,
		LostReplyRate: f.LostReplyRate, Timeout: f.Timeout.String(), Delay: f.Delay.String(),
	})
}

// UnmarshalJSON decodes the form MarshalJSON writes; absent fields are zero.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("emulator: decode faults: %w", err)
	}
	out := Faults{ErrorRate: j.ErrorRate, RateLimitRate: j.RateLimitRate, TimeoutRate: j.TimeoutRate, LostReplyRate: j.LostReplyRate}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{{"timeout", j.Timeout, &out.Timeout}, {"delay", j.Delay, &out.Delay}} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			return fmt.Errorf("emulator: decode faults: %s: %w", d.name, err)
		}
		*d.out = v
	}
	*f = out
	return nil
}

// Validate reports whether f can be applied: rates in [0, 1] adding up to
// at most 1, durations not negative.
func (f Faults) Validate() error {
	var errs []error
	for _, r := range []struct {
		name string
		v    float64
	}{{"error_rate", f.ErrorRate}, {"rate_limit_rate", f.RateLimitRate}, {"timeout_rate", f.TimeoutRate}, {"lost_reply_rate", f.LostReplyRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			errs = append(errs, fmt.Errorf("%s %v is not within [0, 1]", r.name, r.v))
		}
	}
	if sum := f.ErrorRate + f.RateLimitRate + f.TimeoutRate + f.LostReplyRate; sum > 1 {
		errs = append(errs, fmt.Errorf("the rates add up to %v, more than 1", sum))
	}
	if f.Timeout < 0 || f.Delay < 0 {
		errs = append(errs, errors.New("timeout and delay must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("emulator: faults: %w", err)
	}
	return nil
}

// SetFaults replaces the faults injected from the next request on. Faults
// that do not pass Faults.Validate are applied as given, the rates read as
// consecutive slices of [0, 1); the PUT endpoint refuses them instead.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
}

// Faults returns the faults currently injected.
func (s *Server) Faults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults
}

// fault is the outcome of one draw.
type fault int

const (
	faultNone fault = iota
	fault500
	fault503
	faultRateLimit
	faultTimeout
	faultLostReply
)

// draw picks the fault for one request and returns it with the faults in
// force. It draws even when no fault is configured, so the stream position
// depends only on the number of requests.
func (s *Server) draw() (fault, Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	r := s.rng.Float64()
	switch {
	case r < f.ErrorRate/2:
		return fault500, f
	case r < f.ErrorRate:
		return fault503, f
	case r < f.ErrorRate+f.RateLimitRate:
		return faultRateLimit, f
	case r < f.ErrorRate+f.RateLimitRate+f.TimeoutRate:
		return faultTimeout, f
	case r < f.ErrorRate+f.RateLimitRate+f.TimeoutRate+f.LostReplyRate:
		return faultLostReply, f
	}
	return faultNone, f
}

// withFaults wraps an API handler with the fault draw and the delay.
func (s *Server) withFaults(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		flt, f := s.draw()
		if f.Delay > 0 || flt == faultTimeout || flt == faultLostReply {
			// Read the body before holding the request: only then does the
			// server notice a client that hangs up, and end the hold.
			body, err := io.ReadAll(io.LimitReader(r.Body, maxHeldBody))
			if err != nil {
				http.Error(w, "cannot read the request body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if !wait(r.Context(), f.Delay) {
			return
		}
		switch flt {
		case fault500:
			s.answerFault(w, r, http.StatusInternalServerError)
		case fault503:
			s.answerFault(w, r, http.StatusServiceUnavailable)
		case faultRateLimit:
			w.Header().Set("Retry-After", "1")
			s.answerFault(w, r, http.StatusTooManyRequests)
		case faultTimeout, faultLostReply:
			if flt == faultLostReply {
				next(discardReply{}, r.WithContext(context.WithValue(r.Context(), replyLostKey{}, true)))
			}
			hold := f.Timeout
			if hold == 0 {
				hold = defaultFaultTimeout
			}
			if wait(r.Context(), hold) {
				s.answerFault(w, r, http.StatusGatewayTimeout)
			}
		default:
			next(w, r)
		}
	}
}

func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, status int) {
	s.log.DebugContext(r.Context(), "emulator: injected fault", "path", r.URL.Path, "status", status)
	http.Error(w, fmt.Sprintf("emulated fault: %d %s", status, http.StatusText(status)), status)
}

// wait sleeps for d unless ctx ends first; it reports whether d elapsed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// replyLostKey marks the context of a request whose reply will be lost;
// replyLost reads it.
type replyLostKey struct{}

// replyLost reports whether the reply to the request of ctx will be lost
// (a LostReplyRate fault): what it carries is recorded all the same.
func replyLost(ctx context.Context) bool {
	lost, _ := ctx.Value(replyLostKey{}).(bool)
	return lost
}

// discardReply is the ResponseWriter of a request whose reply is lost.
type discardReply struct{}

func (discardReply) Header() http.Header         { return http.Header{} }
func (discardReply) Write(b []byte) (int, error) { return len(b), nil }
func (discardReply) WriteHeader(int)             {}
