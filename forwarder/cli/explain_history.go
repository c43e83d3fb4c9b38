package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/mapping"
)

// simulateHistory gives call the caller history that spec (explain's
// --previous-call) describes, as intake would have looked it up: "none"
// for a caller with no earlier call on record, or how long before this
// call the caller last called. A caller the rules cannot identify
// (withheld or invalid number) gets no key, as at intake.
func simulateHistory(rules *mapping.Rules, call *forwarder.Call, spec string) error {
	h := &forwarder.CallerHistory{Key: rules.CallerKey(call), At: call.StartDate}
	if spec != "none" {
		ago, err := parseAgo(spec)
		if err != nil {
			return err
		}
		if h.Key != "" {
			h.Previous = h.At.Add(-ago)
		}
	}
	call.History = h
	return nil
}

// maxAgoDays bounds a duration in days, far beyond any rule's window.
const maxAgoDays = 100 * 365

// parseAgo reads a positive duration, in Go's syntax (72h, 90m) or in
// whole days (3d).
func parseAgo(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(min(max(n, 0), maxAgoDays)) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--previous-call %q: want none, or how long before this call the caller last called, such as 72h or 3d", s)
	}
	return d, nil
}
