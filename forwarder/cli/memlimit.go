package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// memoryLimitFlag is the serve flag that sets the Go runtime's soft
// memory limit.
const memoryLimitFlag = "memory-limit"

// defaultMemoryLimit is the soft memory limit of serve when neither
// --memory-limit (or its twins) nor GOMEMLIMIT sets one: room for the heap
// of a busy forwarder (about 20-30 MiB live under load) with the
// collector's headroom, well under what a small container is given.
const defaultMemoryLimit = 80 << 20

// noMemoryLimit is the runtime's "no limit" (GOMEMLIMIT=off).
const noMemoryLimit = math.MaxInt64

// memoryLimit is the value of --memory-limit: a size in bytes, written as
// GOMEMLIMIT writes it (a whole number with an optional unit B, KiB, MiB,
// GiB or TiB), or "off" for no limit.
type memoryLimit struct{ bytes int64 }

// memoryUnits are GOMEMLIMIT's units, largest first.
var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// parseMemoryLimit parses s as GOMEMLIMIT does, but refuses 0 (a limit of
// nothing would keep the collector running without pause): "off" is how
// to say "no limit".
func parseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return noMemoryLimit, nil
	}
	num, shift := s, uint(0)
	for _, u := range memoryUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q: want a size such as 96MiB (units B, KiB, MiB, GiB, TiB) or off", s)
	}
	if n == 0 {
		return 0, errors.New("0: the limit must be above zero (off: no limit)")
	}
	if n > noMemoryLimit>>shift {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n << shift, nil
}

// formatMemoryLimit writes n in the largest unit that divides it, or
// "off".
func formatMemoryLimit(n int64) string {
	if n == noMemoryLimit {
		return "off"
	}
	for _, u := range memoryUnits {
		if n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

func (m *memoryLimit) String() string {
	if m == nil {
		return ""
	}
	return formatMemoryLimit(m.bytes)
}

func (m *memoryLimit) Set(s string) error {
	n, err := parseMemoryLimit(s)
	if err != nil {
		return err
	}
	m.bytes = n
	return nil
}

// declareMemoryLimit declares --memory-limit on fs.
func declareMemoryLimit(fs *flag.FlagSet) {
	fs.Var(&memoryLimit{bytes: defaultMemoryLimit}, memoryLimitFlag,
		"soft limit of the Go runtime's memory (heap, stacks), e.g. 96MiB (units B, KiB, MiB, GiB, TiB), or off; "+
			"near it the collector runs more often and returns freed memory to the system at once. "+
			"GOMEMLIMIT, when set, wins. The embedded store's memory-mapped file is not counted")
}

// applyMemoryLimit sets the runtime's soft memory limit from
// --memory-limit, unless GOMEMLIMIT is set (the runtime has applied it at
// start, and it wins), and logs the limit in force and where it comes
// from. It returns that limit in bytes (noMemoryLimit for none).
func applyMemoryLimit(fs *flag.FlagSet, log *slog.Logger) int64 {
	f := fs.Lookup(memoryLimitFlag)
	given := false
	fs.Visit(func(v *flag.Flag) { given = given || v.Name == memoryLimitFlag })
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		limit := debug.SetMemoryLimit(-1)
		attrs := []any{"limit", formatMemoryLimit(limit), "source", "GOMEMLIMIT"}
		if given {
			log.Warn("memory limit: GOMEMLIMIT is set and wins over --"+memoryLimitFlag,
				append(attrs, "ignored", f.Value.String())...)
		} else {
			log.Info("memory limit", attrs...)
		}
		return limit
	}
	limit := f.Value.(*memoryLimit).bytes
	debug.SetMemoryLimit(limit)
	source := "default"
	if given {
		source = "--" + memoryLimitFlag
	}
	log.Info("memory limit", "limit", formatMemoryLimit(limit), "source", source)
	return limit
}

// Returning memory once work is over. The runtime gives freed pages back
// to the system gradually, and collects the garbage of a burst of work
// only when the next cycle comes due: with nothing allocating any more,
// that is the forced collection, up to two minutes later. So after a
// backlog is sent, the process would stay at its peak for a while. The
// tidier notices the moment the process goes quiet after work and then
// collects and returns what is free at once (debug.FreeOSMemory), once
// per quiet spell: a collection of a small heap, when nothing else runs.

// tidyEvery is how often the tidier looks at the allocation rate.
const tidyEvery = 2 * time.Second

// quietAllocs is what the process may allocate in one tidyEvery and still
// count as quiet: a few webhooks, not a backlog being sent.
const quietAllocs = 2 << 20

// tidier decides, from the bytes allocated so far at each tick, when to
// return memory: at the first quiet tick after a busy one.
type tidier struct {
	quiet  uint64 // bytes per tick under which a tick is quiet
	last   uint64 // bytes allocated so far at the previous tick
	tidied bool   // memory was returned since the last busy tick
}

// tick takes the allocation total now and reports whether to return
// memory now.
func (t *tidier) tick(allocs uint64) bool {
	busy := allocs-t.last >= t.quiet
	t.last = allocs
	if busy {
		t.tidied = false
		return false
	}
	if t.tidied {
		return false
	}
	t.tidied = true
	return true
}

// keepTidy runs the tidier every interval until ctx is done.
func keepTidy(ctx context.Context, log *slog.Logger, every time.Duration, quiet uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	// Starting up allocates; the first quiet tick after it tidies too.
	t := &tidier{quiet: quiet, last: s[0].Value.Uint64()}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		metrics.Read(s)
		if t.tick(s[0].Value.Uint64()) {
			before := retained()
			debug.FreeOSMemory()
			log.Debug("memory returned to the system after work", "retained_before", before, "retained_after", retained())
		}
	}
}

// retained is the memory the runtime holds from the system and has not
// returned, in bytes.
func retained() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
