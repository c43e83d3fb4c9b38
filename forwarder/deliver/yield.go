package deliver

import (
	"context"
	"time"
)

// Intake tells the claimer how busy intake is; the webhook handler
// implements it. InFlight is the number of webhooks being read, decoded
// and stored at this moment.
type Intake interface {
	InFlight() int
}

// YieldRecorder is implemented by a Recorder that wants to know how long
// the claimer waited for a busy intake before each claim it delayed.
type YieldRecorder interface {
	Yielded(took time.Duration)
}

// Defaults of the yield to a busy intake (Config.YieldAt, MaxYield).
const (
	DefaultYieldAt  = 4
	DefaultMaxYield = 50 * time.Millisecond
)

// yieldStep is how often the claimer looks again whether intake is still
// busy while it yields (at most a tenth of MaxYield, at least 1ms).
const yieldStep = 5 * time.Millisecond

// yieldToIntake waits while intake is busy (Config.Intake reports at
// least YieldAt webhooks in progress), at most MaxYield, and returns how
// long it waited. It returns at once when intake is not busy, and when ctx
// is done.
func (d *Deliverer) yieldToIntake(ctx context.Context) time.Duration {
	in := d.cfg.Intake
	if in == nil || in.InFlight() < d.cfg.YieldAt {
		return 0
	}
	start := time.Now()
	deadline := start.Add(d.cfg.MaxYield)
	step := max(time.Millisecond, min(yieldStep, d.cfg.MaxYield/10))
	t := time.NewTimer(step)
	defer t.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-t.C:
		}
		left := time.Until(deadline)
		if left <= 0 || in.InFlight() < d.cfg.YieldAt {
			break
		}
		t.Reset(min(step, left))
	}
	took := time.Since(start)
	if r, ok := d.cfg.Recorder.(YieldRecorder); ok {
		r.Yielded(took)
	}
	return took
}
