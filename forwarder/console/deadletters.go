package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/callforward/callforward/forwarder/callview"
)

// deadListed bounds the dead letters listed one by one (the newest, a
// bounded read); the groups, the store's tallies, count them all.
const deadListed = 200

// deadGroup is the dead letters of one kind, code and reason.
type deadGroup struct {
	Kind, Code, Reason string
	Count              int
}

func (g deadGroup) has(v callview.DeadLetterView) bool {
	return v.Kind == g.Kind && v.Code == g.Code && v.Reason == g.Reason
}

type deadData struct {
	Total   int
	Groups  []deadGroup
	Letters []callview.DeadLetterView
	// Done reports the action just carried out.
	Done string
}

func (c *console) loadDead(r *http.Request) ([]callview.DeadLetterView, error) {
	all, err := c.cfg.Store.DeadLetters(r.Context(), 0)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	out := make([]callview.DeadLetterView, len(all))
	for i, d := range all {
		out[i] = callview.NewDeadLetterView(d)
	}
	return out, nil
}

func (c *console) deadLetters(w http.ResponseWriter, r *http.Request) {
	t, err := c.cfg.Store.Tallies(r.Context())
	if err != nil {
		c.fail(w, r, fmt.Errorf("dead letters: %w", err))
		return
	}
	newest, err := c.cfg.Store.DeadLetters(r.Context(), deadListed)
	if err != nil {
		c.fail(w, r, fmt.Errorf("dead letters: %w", err))
		return
	}
	d := deadData{Done: doneMessage(r.URL.Query())}
	for _, g := range t.DeadGroups {
		d.Groups = append(d.Groups, deadGroup{Kind: g.Kind, Code: g.Code, Reason: g.Reason, Count: g.Count})
		d.Total += g.Count
	}
	for _, dl := range newest {
		d.Letters = append(d.Letters, callview.NewDeadLetterView(dl))
	}
	c.render(w, r, http.StatusOK, "deadletters", page{Title: "Dead letters", Nav: "deadletters", Data: d})
}

// doneMessage says what the last action did, from the query the action
// redirected to.
func doneMessage(q url.Values) string {
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil {
		return ""
	}
	failed, _ := strconv.Atoi(q.Get("failed"))
	var verb string
	switch q.Get("done") {
	case "retry":
		verb = "put back in the queue"
	case "drop":
		verb = "dropped"
	default:
		return ""
	}
	msg := fmt.Sprintf("%d dead letter(s) %s.", n, verb)
	if failed > 0 {
		msg += fmt.Sprintf(" %d could not be (already retried or dropped elsewhere?); see the forwarder's log.", failed)
	}
	return msg
}

// deadAction is what a dead-letter form asks for.
type deadAction struct {
	Action string // retry or drop
	IDs    []string
	// Group is set when a whole group is asked for.
	Group *deadGroup
}

// verb is the action as the buttons say it.
func (a deadAction) Verb() string {
	if a.Action == "drop" {
		return "Drop"
	}
	return "Retry"
}

// parseDeadAction reads a dead-letter form: a button retry_one or
// drop_one naming one delivery, or an action with the ids selected, or
// with a group.
func parseDeadAction(r *http.Request) (deadAction, error) {
	var a deadAction
	switch {
	case r.PostFormValue("retry_one") != "":
		a = deadAction{Action: "retry", IDs: []string{r.PostFormValue("retry_one")}}
	case r.PostFormValue("drop_one") != "":
		a = deadAction{Action: "drop", IDs: []string{r.PostFormValue("drop_one")}}
	default:
		a = deadAction{Action: r.PostFormValue("action"), IDs: r.PostForm["id"]}
		if r.PostFormValue("group") == "1" {
			a.Group = &deadGroup{Kind: r.PostFormValue("group_kind"), Code: r.PostFormValue("group_code"), Reason: r.PostFormValue("group_reason")}
		}
	}
	if a.Action != "retry" && a.Action != "drop" {
		return a, fmt.Errorf("unknown action %q", a.Action)
	}
	if len(a.IDs) == 0 && a.Group == nil {
		return a, fmt.Errorf("nothing selected")
	}
	return a, nil
}

type confirmData struct {
	Action  deadAction
	Targets []callview.DeadLetterView
	Shown   []callview.DeadLetterView
}

// confirmShown bounds the dead letters the confirmation lists; auditIDs
// the deliveries an audit line names.
const (
	confirmShown = 50
	auditIDs     = 100
)

// deadLetterAction retries or drops dead letters: the first post shows
// what would be done and asks to confirm; the confirmed post does it,
// logs an audit line naming the admin token's label, and goes back to the
// list.
func (c *console) deadLetterAction(w http.ResponseWriter, r *http.Request) {
	a, err := parseDeadAction(r)
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{Title: "Nothing to do", Nav: "deadletters", Message: "Select at least one dead letter, then choose Retry or Drop (" + err.Error() + ")."})
		return
	}
	all, err := c.loadDead(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var targets []callview.DeadLetterView
	for _, v := range all {
		if a.Group != nil && a.Group.has(v) || slices.Contains(a.IDs, v.Delivery) {
			targets = append(targets, v)
		}
	}
	if r.PostFormValue("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "confirm", page{Title: "Confirm", Nav: "deadletters", Data: confirmData{Action: a, Targets: targets, Shown: targets[:min(len(targets), confirmShown)]}})
		return
	}
	label := sessionOf(r).Label
	done, failed := 0, 0
	ids := make([]string, 0, len(targets))
	for _, v := range targets {
		op := c.cfg.Store.RetryDead
		if a.Action == "drop" {
			op = c.cfg.Store.DropDead
		}
		if err := op(r.Context(), v.Delivery); err != nil {
			failed++
			c.log.Warn("console: dead letter not changed", "token_label", label, "action", a.Action, "delivery", v.Delivery, "err", err)
			continue
		}
		done++
		ids = append(ids, v.Delivery)
	}
	// The audit line names the deliveries changed, up to auditIDs of them.
	c.log.Info("console: dead letters "+a.Action, "token_label", label, "count", done, "failed", failed, "deliveries", ids[:min(len(ids), auditIDs)])
	q := url.Values{"done": {a.Action}, "n": {strconv.Itoa(done)}, "failed": {strconv.Itoa(failed)}}
	http.Redirect(w, r, "/deadletters?"+q.Encode(), http.StatusSeeOther)
}
