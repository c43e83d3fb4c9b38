package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// dashboardFile is the sample Grafana dashboard shipped in deploy/.
const dashboardFile = "../../deploy/grafana/callforward-dashboard.json"

// exported returns the names of every family a forwarder's /metrics
// serves (each instrument used once), and which of them are histograms.
func exported(t *testing.T) (names map[string]bool, histograms map[string]bool) {
	t.Helper()
	m := New(func(context.Context) (store.Stats, error) {
		return store.Stats{Pending: 1, EarliestDue: time.Now()}, nil
	})
	m.Webhook("accepted")
	m.FieldDropped("Call.Survey.Value")
	m.Reload(true)
	m.Delivery(forwarder.Delivery{Type: "ga4", Destination: "web", Rule: "r"}, "retry", errors.New("down"), time.Millisecond)
	m.Batch("ga4", 3)
	m.TokenRefresh("authorized_user", "datamanager", nil)
	m.Yielded(time.Millisecond)
	m.ObserveInFlight(func() int { return 3 })
	m.CountReplies(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil))
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names, histograms = map[string]bool{}, map[string]bool{}
	for _, f := range fams {
		if name := f.GetName(); strings.HasPrefix(name, "callforward_") {
			names[name] = true
			histograms[name] = f.GetType().String() == "HISTOGRAM"
		}
	}
	return names, histograms
}

// TestDashboard: the dashboard is valid JSON with unique panel ids; every
// query is balanced, uses only the dashboard's variables and names only
// metrics the forwarder serves; and every metric it serves has a panel.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	names, histograms := exported(t)
	metricName := regexp.MustCompile(`callforward_[a-z0-9_]+`)
	variable := regexp.MustCompile(`\$[a-zA-Z_]+`)
	ids := map[int]bool{}
	charted := map[string]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if err := balanced(tg.Expr); err != nil {
				t.Errorf("panel %q: %v in %s", p.Title, err, tg.Expr)
			}
			for _, v := range variable.FindAllString(tg.Expr, -1) {
				if !slices.Contains([]string{"$job", "$instance", "$__rate_interval", "$__interval"}, v) {
					t.Errorf("panel %q: unknown variable %s", p.Title, v)
				}
			}
			for _, series := range metricName.FindAllString(tg.Expr, -1) {
				name := series
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, ok := strings.CutSuffix(series, suffix); ok && histograms[base] {
						name = base
					}
				}
				if !names[name] || (histograms[name] && name == series) {
					t.Errorf("panel %q: %s is not a series the forwarder serves", p.Title, series)
				}
				charted[name] = true
			}
		}
	}
	for name := range names {
		if !charted[name] {
			t.Errorf("%s has no panel in %s", name, dashboardFile)
		}
	}
}

// balanced reports unbalanced brackets or quotes in a PromQL expression.
func balanced(expr string) error {
	var open []rune
	closing := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inQuote := false
	for _, r := range expr {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '(' || r == '[' || r == '{':
			open = append(open, r)
		case closing[r] != 0:
			if len(open) == 0 || open[len(open)-1] != closing[r] {
				return errors.New("unbalanced " + string(r))
			}
			open = open[:len(open)-1]
		}
	}
	if inQuote || len(open) > 0 {
		return errors.New("unclosed bracket or quote")
	}
	return nil
}
