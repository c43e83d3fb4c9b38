package deliver

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// DefaultSchedule is the wait before each retry of a transiently failing
// delivery: about 21 hours in all, well inside Google's acceptance windows
// for conversions, and past most outages. After the last step the delivery
// is dead-lettered.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// Policy turns a classified send failure into a decision. It is the one
// place that knows about retries:
//
//   - permanent failures are dead-lettered at once: retrying cannot help,
//     and an operator can retry the dead letter after fixing the cause;
//   - "retry after" failures wait exactly as long as the remote asked (plus
//     a little jitter so that many deliveries do not return together), and
//     do not use up the transient budget, since the remote said when;
//     MaxWaits bounds them so that a remote that always says "later" cannot
//     keep a delivery forever;
//   - transient failures wait the next step of Schedule (±Jitter) and are
//     dead-lettered once the schedule is used up.
type Policy struct {
	Schedule []time.Duration
	Jitter   float64 // fraction, e.g. 0.2 for ±20%
	MaxWaits int     // bound on retries of any kind (default 3×len(Schedule))
	// Rand returns a float in [0,1); default math/rand/v2.
	Rand func() float64
}

// Decision is what to do with a failed delivery.
type Decision struct {
	Bury   bool
	At     time.Time // with !Bury: when to try again
	Reason string    // for the store: why it failed (and, when buried, why it stopped)
	Code   string
}

func (p Policy) withDefaults() Policy {
	if p.Schedule == nil {
		p.Schedule = DefaultSchedule
	}
	if p.MaxWaits <= 0 {
		p.MaxWaits = 3 * len(p.Schedule)
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Decide classifies err for a delivery that has failed attempts times
// before (so this failure is attempt number attempts+1).
func (p Policy) Decide(err error, attempts int, now time.Time) Decision {
	p = p.withDefaults()
	se := forwarder.Classify(err)
	d := Decision{Reason: se.Error(), Code: se.Code}
	switch {
	case se.Kind == forwarder.KindPermanent:
		d.Bury = true
	case attempts+1 > p.MaxWaits:
		d.Bury = true
		d.Reason = fmt.Sprintf("gave up after %d attempts: %s", attempts+1, d.Reason)
	case se.Kind == forwarder.KindRetryAfter:
		d.At = now.Add(p.jitter(se.After, 0, p.Jitter/4))
	case attempts >= len(p.Schedule):
		d.Bury = true
		d.Reason = fmt.Sprintf("gave up after %d attempts: %s", attempts+1, d.Reason)
	default:
		d.At = now.Add(p.jitter(p.Schedule[attempts], -p.Jitter, p.Jitter))
	}
	return d
}

// jitter scales base by a random factor in [1+lo, 1+hi).
func (p Policy) jitter(base time.Duration, lo, hi float64) time.Duration {
	f := 1 + lo + (hi-lo)*p.Rand()
	return time.Duration(float64(base) * f)
}
