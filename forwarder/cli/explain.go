package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ga4"
	"github.com/callforward/callforward/forwarder/googleads"
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
	asJSON := fs.Bool("json", false, "print JSON (the default when stdout is not a terminal)")
	asText := fs.Bool("text", false, "print the readable summary (the default on a terminal)")
	previous := fs.String("previous-call", "", "the caller's history, as the store would give it: none (no earlier call on record), or how long before this call the caller last called (72h, 3d); by default it is not looked up, since explain reads no store")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: forwarder explain [--rules rules.yaml] [--previous-call none|DURATION] [--json|--text] WEBHOOK-FILE|-")
		fmt.Fprintln(fs.Output(), "Prints the decoded call, every rule's verdict and the exact payloads that would be sent (GA4, Google Ads, UA): a readable summary on a terminal, JSON otherwise. Nothing is sent.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *asJSON && *asText {
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
		if p := payload(d, now); p != nil {
			out.Payloads[d.ID] = p
		}
	}
	if *asText || (!*asJSON && isTerminal(io.Stdout)) {
		return writeText(io.Stdout, out)
	}
	enc := json.NewEncoder(io.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// adsPayload is what explain shows of a Google Ads request.
type adsPayload struct {
	API    string          `json:"api"`
	Method string          `json:"method"`
	Body   json.RawMessage `json:"body"`
}

// payload returns what d's sender would send now, or why it would send
// nothing; nil for a delivery of no known type.
func payload(d forwarder.Delivery, now time.Time) json.RawMessage {
	var p json.RawMessage
	var err error
	switch {
	case d.GA4 != nil:
		p, err = ga4.BuildPayload(d, now)
	case d.UA != nil:
		// The form body a UA collector receives, as one JSON string.
		var v url.Values
		if v, err = ua.BuildPayload(d, now); err == nil {
			p = mustJSON(v.Encode())
		}
	case d.Ads != nil:
		var method string
		var body []byte
		if method, body, err = googleads.BuildRequest(d); err == nil {
			p = mustJSON(adsPayload{API: d.Ads.Backend, Method: method, Body: body})
		}
	default:
		return nil
	}
	if err != nil {
		return mustJSON(map[string]string{"error": err.Error()})
	}
	return p
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
