package console

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/webhook"
)

type rulesData struct {
	Status RulesStatus
	Try    *tryResult
}

// tryResult is what the rules make of a pasted webhook: the decoded call,
// masked, each rule's verdict, and the deliveries planned. The pasted
// webhook is not shown back (it holds the caller's number), and neither
// are the payloads (`forwarder explain` prints them on the command line).
type tryResult struct {
	Error   string
	View    callview.CallView
	Planned []forwarder.Delivery
}

func (c *console) rules(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "rules", page{Title: "Rules", Nav: "rules", Data: rulesData{Status: c.cfg.Status().Rules}})
}

// tryWebhook evaluates a pasted webhook under the rules in force, as
// `forwarder explain` does; nothing is stored or sent.
func (c *console) tryWebhook(w http.ResponseWriter, r *http.Request) {
	d := rulesData{Status: c.cfg.Status().Rules, Try: &tryResult{}}
	status := http.StatusOK
	call, err := decodeSample([]byte(r.PostFormValue("webhook")))
	rules := c.cfg.Rules()
	switch {
	case err != nil:
		d.Try.Error, status = err.Error(), http.StatusBadRequest
	case rules == nil:
		d.Try.Error, status = "no rules are loaded", http.StatusServiceUnavailable
	default:
		d.Try.View = callview.NewCallView(call, c.cfg.Now(), nil, rules.Explain(call))
		d.Try.Planned = rules.Evaluate(call)
	}
	c.render(w, r, status, "rules", page{Title: "Rules", Nav: "rules", Data: d})
}

// decodeSample decodes a webhook as pasted: JSON when it starts with '{',
// otherwise a query string or urlencoded form.
func decodeSample(data []byte) (*forwarder.Call, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("paste a webhook first")
	}
	ct := "application/x-www-form-urlencoded"
	if bytes.HasPrefix(data, []byte("{")) {
		ct = "application/json"
	} else if i := bytes.IndexByte(data, '?'); i >= 0 && !bytes.ContainsAny(data[:i], "&=") {
		data = data[i+1:] // a whole URL: keep its query
	}
	params, err := webhook.Params(http.MethodPost, ct, "", data)
	if err != nil {
		return nil, fmt.Errorf("the webhook does not decode: %w", err)
	}
	call, err := webhook.Decode(params)
	if err != nil {
		return nil, fmt.Errorf("the webhook does not decode: %w", err)
	}
	return call, nil
}
