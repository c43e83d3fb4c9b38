package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ga4"
	"github.com/callforward/callforward/forwarder/ua"
	"github.com/callforward/callforward/mapping"
)

// explanation is what explain prints.
type explanation struct {
	Call     *forwarder.Call            `json:"call"`
	Rules    []mapping.Outcome          `json:"rules"`
	Payloads map[string]json.RawMessage `json:"payloads,omitempty"`
}

func explain(_ context.Context, args []string, io IO) error {
	fs := newFlagSet("explain", io)
	rulesPath := fs.String("rules", "rules.yaml", "rules file (YAML)")
	previous := fs.String("previous-call", "", "the caller's history, as the store would give it: none (no earlier call on record), or how long before this call the caller last called (72h, 3d); by default it is not looked up, since explain reads no store")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: forwarder explain [--rules rules.yaml] [--previous-call none|DURATION] WEBHOOK-FILE|-")
		fmt.Fprintln(fs.Output(), "Prints, as JSON, the decoded call, every rule's verdict and the exact payloads that would be sent. Nothing is sent.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	rules, err := mapping.Load(*rulesPath)
	if err != nil {
		return err
	}
	call, err := readWebhook(fs.Arg(0), io.Stdin)
	if err != nil {
		return err
	}
	if *previous != "" {
		if err := simulateHistory(rules, call, *previous); err != nil {
			return err
		}
	}
	out := explanation{Call: call, Rules: rules.Explain(call), Payloads: map[string]json.RawMessage{}}
	now := time.Now()
	for _, d := range rules.Evaluate(call) {
		switch {
		case d.GA4 != nil:
			p, err := ga4.BuildPayload(d, now)
			if err != nil {
				out.Payloads[d.ID] = mustJSON(map[string]string{"error": err.Error()})
				continue
			}
			out.Payloads[d.ID] = p
		case d.UA != nil:
			// The form body a UA collector receives, as one JSON string.
			v, err := ua.BuildPayload(d, now)
			if err != nil {
				out.Payloads[d.ID] = mustJSON(map[string]string{"error": err.Error()})
				continue
			}
			out.Payloads[d.ID] = mustJSON(v.Encode())
		}
	}
	enc := json.NewEncoder(io.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
