package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// replay re-plans stored calls under the current rules. Deliveries a call
// already has (delivered, pending, dead or dropped) are kept as they are:
// only deliveries the new rules add are queued, so nothing is sent twice
// and a dropped dead letter stays dropped. --include-dropped queues the
// dropped ones the rules still plan again.
func replay(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("replay", io)
	cfg := storeFlags(fs)
	rulesPath := fs.String("rules", "rules.yaml", "rules file (YAML): the rules to re-plan under")
	var calls stringList
	fs.Var(&calls, "call", "Call.Sid to re-plan (repeatable)")
	since := fs.String("since", "", "re-plan every call accepted since this time (RFC 3339, or a duration ago such as 48h)")
	dryRun := fs.Bool("dry-run", false, "show what would be queued, change nothing")
	includeDropped := fs.Bool("include-dropped", false, "also queue again the deliveries dropped with 'deadletter drop' that the rules still plan")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(calls) == 0 && *since == "" {
		return errors.New("name the calls: --call SID (repeatable) or --since TIME|DURATION")
	}
	rules, err := mapping.Load(*rulesPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	sids := []string(calls)
	if *since != "" {
		from, err := parseSince(*since, time.Now())
		if err != nil {
			return err
		}
		more, err := st.CallSids(ctx, from, 0)
		if err != nil {
			return err
		}
		sids = append(sids, more...)
	}
	total := 0
	for _, sid := range sids {
		call, err := st.Call(ctx, sid)
		if err != nil {
			return fmt.Errorf("call %s: %w", sid, err)
		}
		planned := rules.Evaluate(call)
		if *dryRun {
			have, err := st.Jobs(ctx, sid)
			if err != nil {
				return err
			}
			exists := map[string]bool{}
			for _, j := range have {
				exists[j.Job.Delivery.ID] = !*includeDropped || j.State != store.JobDropped
			}
			for _, d := range planned {
				if !exists[d.ID] {
					fmt.Fprintf(io.Stdout, "would queue %s\n", d.ID)
					total++
				}
			}
			continue
		}
		n, err := st.Replan(ctx, sid, planned, store.ReplanOptions{IncludeDropped: *includeDropped})
		if err != nil {
			return fmt.Errorf("replan %s: %w", sid, err)
		}
		if n > 0 {
			fmt.Fprintf(io.Stdout, "%s: %d new deliveries queued\n", sid, n)
		}
		total += n
	}
	verb := "queued"
	if *dryRun {
		verb = "would be queued"
	}
	fmt.Fprintf(io.Stdout, "%d call(s) re-planned under %s: %d new deliveries %s\n", len(sids), *rulesPath, total, verb)
	return nil
}

// parseSince reads an RFC 3339 time or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	t, err := callview.ParseSince(s, now)
	if err != nil {
		return t, fmt.Errorf("--%w", err)
	}
	return t, nil
}
