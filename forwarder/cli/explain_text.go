package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/callforward/callforward/forwarder"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writeText prints an explanation for a person: the call in one line
// (personal data masked), the dropped fields, every rule's verdict and the
// payloads, indented.
func writeText(w io.Writer, e explanation) error {
	var b strings.Builder
	c := e.Call
	fmt.Fprintf(&b, "Call %s (%s), started %s", c.Sid, c.Event, c.StartDate.UTC().Format(time.DateTime+" MST"))
	if c.Duration != nil {
		fmt.Fprintf(&b, ", %d s", *c.Duration)
	}
	if c.Disposition != "" {
		fmt.Fprintf(&b, ", %s", c.Disposition)
	}
	b.WriteString("\n")
	var who []string
	if c.From != "" {
		who = append(who, "caller "+maskTail(c.From, 3))
	}
	if c.GAClientID != "" {
		who = append(who, "GA client id "+maskTail(c.GAClientID, 4))
	}
	if c.GCLID != "" {
		who = append(who, "GCLID "+maskTail(c.GCLID, 4))
	}
	if len(who) > 0 {
		fmt.Fprintf(&b, "  %s\n", strings.Join(who, ", "))
	}
	for _, d := range c.Dropped {
		fmt.Fprintf(&b, "Dropped: %s: %s\n", d.Field, d.Reason)
	}

	b.WriteString("\nRules\n")
	for _, o := range e.Rules {
		if o.Matched {
			fmt.Fprintf(&b, "  %s: matched\n", o.Rule)
		} else {
			fmt.Fprintf(&b, "  %s: not matched: %s\n", o.Rule, o.Reason)
		}
		for _, d := range o.Deliveries {
			fmt.Fprintf(&b, "    -> %s (%s)\n", d.ID, describe(d))
		}
		for _, s := range o.Skipped {
			fmt.Fprintf(&b, "    skipped %s: %s\n", s.Destination, s.Reason)
		}
	}

	if len(e.Payloads) > 0 {
		b.WriteString("\nPayloads\n")
	}
	ids := make([]string, 0, len(e.Payloads))
	for id := range e.Payloads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		raw := e.Payloads[id]
		var ads adsPayload
		var failed struct {
			Error string `json:"error"`
		}
		switch {
		case json.Unmarshal(raw, &failed) == nil && failed.Error != "":
			fmt.Fprintf(&b, "  %s: not sent: %s\n", id, failed.Error)
			continue
		case json.Unmarshal(raw, &ads) == nil && ads.Method != "":
			fmt.Fprintf(&b, "  %s (google_ads): %s %s\n", id, ads.API, ads.Method)
			raw = ads.Body
		case bytes.HasPrefix(raw, []byte(`"`)):
			fmt.Fprintf(&b, "  %s (ua): POST /collect\n", id)
		default:
			fmt.Fprintf(&b, "  %s (ga4): POST /mp/collect\n", id)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, raw, "    ", "  "); err != nil {
			pretty.Reset()
			pretty.Write(raw)
		}
		fmt.Fprintf(&b, "    %s\n", pretty.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describe names what a delivery sends, in a few words.
func describe(d forwarder.Delivery) string {
	switch {
	case d.GA4 != nil:
		return "ga4 " + d.GA4.Name
	case d.Ads != nil:
		return fmt.Sprintf("google_ads %s conversion, action %s", d.Ads.Kind, d.Ads.ConversionAction)
	case d.UA != nil:
		return "ua " + d.UA.Category + "/" + d.UA.Action
	}
	return d.Type
}

// maskTail shows only the last n characters of a personal value.
func maskTail(v string, n int) string {
	r := []rune(v)
	if len(r) <= n {
		return strings.Repeat("*", len(r))
	}
	return "…" + string(r[len(r)-n:])
}
