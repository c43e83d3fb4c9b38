package deliver

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func TestPolicyDecide(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := Policy{
		Schedule: []time.Duration{time.Second, 10 * time.Second, time.Minute},
		Jitter:   0.2,
		MaxWaits: 5,
	}
	tests := []struct {
		name     string
		err      error
		attempts int
		rand     float64
		wantBury bool
		wantAt   time.Duration // offset from now, when not buried
		wantCode string
		reason   string // substring of the reason
	}{
		{"permanent is buried at once", forwarder.Permanent("http_400", errors.New("bad")), 0, 0.5, true, 0, "http_400", "permanent http_400: bad"},
		{"transient first step, low jitter", forwarder.Transient("http_503", errors.New("down")), 0, 0, false, 800 * time.Millisecond, "http_503", "transient"},
		{"transient first step, mid jitter", forwarder.Transient("http_503", nil), 0, 0.5, false, time.Second, "http_503", ""},
		{"transient third step", forwarder.Transient("network", nil), 2, 0.5, false, time.Minute, "network", ""},
		{"transient schedule used up", forwarder.Transient("network", errors.New("refused")), 3, 0.5, true, 0, "network", "gave up after 4 attempts"},
		{"unclassified error is transient", errors.New("mystery"), 1, 0.5, false, 10 * time.Second, "unclassified", "mystery"},
		{"retry-after honoured beyond the schedule", forwarder.RetryAfter("TOO_RECENT_CALL", 12*time.Hour, nil), 3, 0, false, 12 * time.Hour, "TOO_RECENT_CALL", ""},
		{"retry-after bounded by MaxWaits", forwarder.RetryAfter("http_429", time.Second, nil), 5, 0, true, 0, "http_429", "gave up after 6 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := p
			p.Rand = func() float64 { return tt.rand }
			d := p.Decide(tt.err, tt.attempts, now)
			if d.Bury != tt.wantBury {
				t.Fatalf("Bury = %v, want %v (decision %+v)", d.Bury, tt.wantBury, d)
			}
			if !d.Bury && d.At.Sub(now) != tt.wantAt {
				t.Errorf("retry in %v, want %v", d.At.Sub(now), tt.wantAt)
			}
			if d.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", d.Code, tt.wantCode)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", d.Reason, tt.reason)
			}
		})
	}
}

func TestDefaultScheduleIsIncreasing(t *testing.T) {
	for i := 1; i < len(DefaultSchedule); i++ {
		if DefaultSchedule[i] <= DefaultSchedule[i-1] {
			t.Fatalf("DefaultSchedule[%d] = %v is not after %v", i, DefaultSchedule[i], DefaultSchedule[i-1])
		}
	}
}
