package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// calls lists stored calls and shows one call's timeline. Personal data
// is masked by package callview, as in the read API.
func calls(ctx context.Context, args []string, io IO) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "show") {
		fmt.Fprintln(io.Stderr, "usage: forwarder calls list|show [flags]")
		fmt.Fprintln(io.Stderr, "  list      calls newest first: --since 24h --state pending|dead|rejected|counted|awaiting|... --rule R --destination D --sid PREFIX --limit N")
		fmt.Fprintln(io.Stderr, "  show SID  one call's timeline: what arrived (personal data masked), each rule's verdict, each delivery's attempts and Google's outcome")
		return errUsage
	}
	if args[0] == "show" {
		return callsShow(ctx, args[1:], io)
	}
	return callsList(ctx, args[1:], io)
}

func callsList(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("calls list", io)
	cfg := storeFlags(fs)
	var q callview.Query
	fs.StringVar(&q.Since, "since", "24h", "calls accepted since this time (RFC 3339, or a duration ago such as 24h; empty: all)")
	fs.StringVar(&q.State, "state", "", "calls with a delivery in this state or with this outcome: pending, done, dead, dropped, awaiting, counted, rejected, unknown, sent")
	fs.StringVar(&q.Rule, "rule", "", "calls with a delivery of this rule")
	fs.StringVar(&q.Destination, "destination", "", "calls with a delivery to this destination")
	fs.StringVar(&q.Sid, "sid", "", "calls whose Sid starts with this")
	limit := fs.Int("limit", callview.DefaultLimit, "at most this many calls")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := q.Filter(time.Now())
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var list []callview.CallSummary
	for cursor := ""; len(list) < *limit; {
		page, next, err := callview.List(ctx, st, f, cursor, *limit-len(list))
		if err != nil {
			return err
		}
		list = append(list, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if *asJSON {
		if list == nil {
			list = []callview.CallSummary{}
		}
		return printJSON(io.Stdout, list)
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARRIVED\tSID\tEVENT\tDELIVERY\tOUTCOME")
	for _, c := range list {
		if len(c.Deliveries) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tnothing planned\n", stamp(c.Arrived), c.Sid, c.Event)
		}
		for i, d := range c.Deliveries {
			when, sid, event := stamp(c.Arrived), c.Sid, string(c.Event)
			if i > 0 {
				when, sid, event = "", "", ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%s\n", when, sid, event, ruleOf(d.ID, c.Sid), destOf(d.ID), d.Outcome)
		}
	}
	tw.Flush()
	fmt.Fprintf(io.Stdout, "%d call(s)\n", len(list))
	return nil
}

// ruleOf and destOf split a delivery id (sid/rule/destination); a Sid
// may itself contain "/", so they cut from the end.
func ruleOf(id, sid string) string {
	rest := strings.TrimPrefix(id, sid+"/")
	r, _, _ := strings.Cut(rest, "/")
	return r
}

func destOf(id string) string { return id[strings.LastIndex(id, "/")+1:] }

func callsShow(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("calls show", io)
	cfg := storeFlags(fs)
	rulesPath := fs.String("rules", "rules.yaml", "rules file (YAML): each rule's verdict is evaluated under it (the rules in force)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: forwarder calls show [flags] SID")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The Sid may come before, among or after the flags.
	var sid string
	if fs.NArg() > 0 {
		sid = fs.Arg(0)
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if sid == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
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
	v, err := callview.Load(ctx, st, rules, sid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no call %q in the store", sid)
		}
		return err
	}
	if *asJSON {
		return printJSON(io.Stdout, v)
	}
	printCall(io.Stdout, v, *rulesPath)
	return nil
}

// printCall writes a call's timeline for a person at a terminal.
func printCall(w io.Writer, v callview.CallView, rulesPath string) {
	c := v.Call
	fmt.Fprintf(w, "Call %s (%s)\n", v.Sid, c.Event)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", name, value)
		}
	}
	if !v.Arrived.IsZero() {
		field("arrived", stamp(v.Arrived))
	}
	if !c.StartDate.IsZero() {
		field("started", stamp(c.StartDate))
	}
	if c.Duration != nil {
		field("duration", fmt.Sprintf("%ds", *c.Duration))
	}
	field("disposition", string(c.Disposition))
	field("property", strings.TrimSpace(c.PropertySid+" "+c.PropertyName))
	field("from", strings.Trim(c.From+" "+strings.Join(nonEmpty(c.FromCity, c.FromRegion, c.FromCountry), ", "), " "))
	field("to", strings.TrimSpace(c.To+" "+c.ToName))
	field("ga client id", c.GAClientID)
	field("gclid", c.GCLID)
	field("source", strings.Join(nonEmpty(c.Attribution.Source, c.Attribution.Medium, c.Attribution.Campaign), " / "))
	field("landing page", c.LandingPage)
	if !c.PreviousCall.IsZero() {
		field("previous call", stamp(c.PreviousCall))
	}
	if len(c.Extra) > 0 {
		field("other fields", strings.Join(c.Extra, ", "))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nRules of %s (%s):\n", rulesPath, v.RulesNote)
	for _, r := range v.Rules {
		switch {
		case r.Matched:
			fmt.Fprintf(w, "  %-20s matched", r.Rule)
			if len(r.Plans) > 0 {
				fmt.Fprintf(w, ", plans %s", strings.Join(r.Plans, ", "))
			}
			if r.Stops {
				fmt.Fprint(w, ", stops")
			}
			fmt.Fprintln(w)
			for _, s := range r.Skipped {
				fmt.Fprintf(w, "  %-20s   skipped %s: %s\n", "", s.Destination, s.Reason)
			}
		default:
			fmt.Fprintf(w, "  %-20s no: %s\n", r.Rule, r.Reason)
		}
	}

	fmt.Fprintf(w, "\nDeliveries (%d):\n", len(v.Deliveries))
	for _, d := range v.Deliveries {
		fmt.Fprintf(w, "  %s\n", d.ID)
		fmt.Fprintf(w, "    state     %s, %d attempt(s)\n", d.State, d.Attempts)
		if d.RequestID != "" {
			fmt.Fprintf(w, "    request   %s\n", d.RequestID)
		}
		fmt.Fprintf(w, "    outcome   %s\n", d.Outcome)
		for _, a := range d.History {
			line := fmt.Sprintf("    %s  %-9s took %s", stamp(a.At), a.Result, a.Took.Round(time.Millisecond))
			if a.Code != "" {
				line += "  " + a.Code
			}
			if a.Error != "" {
				line += ": " + oneLine(a.Error)
			}
			fmt.Fprintln(w, line)
		}
		if len(d.History) == 0 && d.LastError != "" {
			fmt.Fprintf(w, "    last error %s\n", oneLine(d.LastError))
		}
	}
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// stamp formats a time for a terminal, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
