package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/callforward/callforward/forwarder/store"
)

// deadFilter selects dead letters.
type deadFilter struct {
	id, call, rule, destination, code string
	all                               bool
}

func (f deadFilter) empty() bool {
	return f.id == "" && f.call == "" && f.rule == "" && f.destination == "" && f.code == ""
}

func (f deadFilter) match(d store.DeadLetter) bool {
	dl := d.Job.Delivery
	return (f.id == "" || dl.ID == f.id) && (f.call == "" || dl.CallSid == f.call) &&
		(f.rule == "" || dl.Rule == f.rule) && (f.destination == "" || dl.Destination == f.destination) &&
		(f.code == "" || d.Code == f.code)
}

func deadletter(ctx context.Context, args []string, io IO) error {
	usage := func() {
		fmt.Fprintln(io.Stderr, "usage: forwarder deadletter list|retry|drop [flags]")
		fmt.Fprintln(io.Stderr, "  list   show dead-lettered deliveries: why, when, which rule and destination, Google's code")
		fmt.Fprintln(io.Stderr, "  retry  make matching dead letters pending again (after fixing their cause)")
		fmt.Fprintln(io.Stderr, "  drop   give up matching dead letters for good (replay leaves them dropped unless --include-dropped)")
		fmt.Fprintln(io.Stderr, "Select with --id, --call, --rule, --destination, --code; retry and drop need a selection or --all.")
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "retry" && args[0] != "drop") {
		usage()
		return errUsage
	}
	verb := args[0]
	fs := newFlagSet("deadletter "+verb, io)
	cfg := storeFlags(fs)
	var f deadFilter
	fs.StringVar(&f.id, "id", "", "delivery id (call-sid/rule/destination)")
	fs.StringVar(&f.call, "call", "", "Call.Sid")
	fs.StringVar(&f.rule, "rule", "", "rule name")
	fs.StringVar(&f.destination, "destination", "", "destination name")
	fs.StringVar(&f.code, "code", "", "failure code (e.g. http_400, INVALID_GCLID)")
	fs.BoolVar(&f.all, "all", false, "with retry or drop: every dead letter")
	asJSON := fs.Bool("json", false, "with list: print JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if verb != "list" && f.empty() && !f.all {
		return errors.New("retry and drop need a selection (--id, --call, --rule, --destination, --code) or --all")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	dead, err := st.DeadLetters(ctx, 0)
	if err != nil {
		return err
	}
	var selected []store.DeadLetter
	for _, d := range dead {
		if f.match(d) {
			selected = append(selected, d)
		}
	}
	switch verb {
	case "list":
		if *asJSON {
			enc := json.NewEncoder(io.Stdout)
			enc.SetIndent("", "  ")
			if selected == nil {
				selected = []store.DeadLetter{}
			}
			return enc.Encode(selected)
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN\tDELIVERY\tATTEMPTS\tCODE\tREASON")
		for _, d := range selected {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.At.UTC().Format("2006-01-02 15:04:05"), d.Job.Delivery.ID,
				d.Job.Attempts, d.Code, oneLine(d.Reason))
		}
		tw.Flush()
		fmt.Fprintf(io.Stdout, "%d dead letter(s)\n", len(selected))
		return nil
	case "retry", "drop":
		act, done := st.RetryDead, "retried"
		if verb == "drop" {
			act, done = st.DropDead, "dropped"
		}
		n := 0
		for _, d := range selected {
			if err := act(ctx, d.Job.Delivery.ID); err != nil {
				return fmt.Errorf("%s %s: %w (%d done before)", verb, d.Job.Delivery.ID, err, n)
			}
			n++
		}
		fmt.Fprintf(io.Stdout, "%d dead letter(s) %s\n", n, done)
	}
	return nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
