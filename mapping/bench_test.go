package mapping

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// benchRules builds a realistic file of n rules for a deployment serving
// n/5 websites over three GA4 streams: each site has five rules (every
// call, qualified calls, missed calls, Google Ads calls, one number), routed
// by Property.Sid, with 4-6 params each. The benchmark call is for site 0,
// so five rules are candidates and about three match, whatever n is.
// With matchAll, the property matcher is left out and most rules match.
func benchRules(n int, matchAll bool) string {
	var b strings.Builder
	b.WriteString("destinations:\n")
	for d := range 3 {
		fmt.Fprintf(&b, "  d%d: {type: ga4, measurement_id: G-BENCH%04d}\n", d, d)
	}
	b.WriteString("rules:\n")
	for i := range n {
		site := i / 5
		fmt.Fprintf(&b, "  - name: site%d-rule%d\n    when:\n", site, i%5)
		if !matchAll {
			if site == 0 {
				b.WriteString("      property: [PR81b2c3d4e5f60718]\n")
			} else {
				fmt.Fprintf(&b, "      property: [PR%016d]\n", site)
			}
		}
		switch i % 5 {
		case 0:
			b.WriteString("      event: Call.Complete\n")
		case 1:
			b.WriteString("      disposition: [ANSWERED]\n      min_duration: 60\n")
		case 2:
			b.WriteString("      disposition: [\"NO ANSWER\", BUSY]\n")
		case 3:
			b.WriteString("      has_gclid: true\n      traffic_type: [Campaign]\n      max_duration: 3600\n")
		case 4:
			fmt.Fprintf(&b, "      number_name: [\"Website %d\", \"Van signage\"]\n      number_type: Static\n", i)
		}
		fmt.Fprintf(&b, "    send:\n      - to: d%d\n        event: event_%d\n        params:\n", site%3, i%5)
		b.WriteString("          duration: \"{{Call.Duration}}\"\n")
		b.WriteString("          outcome: \"{{Call.Disposition}}\"\n")
		b.WriteString("          number: \"{{Call.To.Name}}\"\n")
		b.WriteString("          value: 25\n          currency: AUD\n")
		if i%2 == 0 {
			b.WriteString("          label: \"{{Attribution.Source}} / {{Attribution.Medium}}\"\n")
		}
	}
	return b.String()
}

func BenchmarkEvaluate(b *testing.B) {
	_, calls := loadCalls(b)
	call := calls["answered-with-gclid"]
	for _, bc := range []struct {
		n        int
		matchAll bool
	}{{10, false}, {50, false}, {50, true}} {
		r, err := Parse("bench.yaml", []byte(benchRules(bc.n, bc.matchAll)))
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("rules=%d", bc.n)
		if bc.matchAll {
			name += "/most-match"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			deliveries := 0
			for b.Loop() {
				deliveries = len(r.Evaluate(call))
			}
			b.ReportMetric(float64(deliveries), "deliveries/op")
		})
	}
}

// BenchmarkEvaluateAds measures Google Ads actions on top of the 50-rule
// file: a click conversion by GCLID only, and one that also normalises and
// hashes the caller's number.
func BenchmarkEvaluateAds(b *testing.B) {
	_, calls := loadCalls(b)
	call := calls["answered-with-gclid"]
	for _, bc := range []struct{ name, action string }{
		{"gclid", `{to: ads, conversion_action: "1", value: 50, currency: AUD}`},
		{"hashed-phone", `{to: ads, conversion_action: "1", value: 50, currency: AUD, caller_phone: hashed}`},
	} {
		src := strings.Replace(benchRules(50, false), "destinations:\n", "destinations:\n  ads: {type: google_ads, customer_id: 123-456-7890}\n", 1) +
			"  - name: ads\n    when: {has_gclid: true}\n    send: [" + bc.action + "]\n"
		r, err := Parse("bench.yaml", []byte(src))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			deliveries := 0
			for b.Loop() {
				deliveries = len(r.Evaluate(call))
			}
			b.ReportMetric(float64(deliveries), "deliveries/op")
		})
	}
}

// BenchmarkEvaluateExpr measures the 50-rule file with a CEL condition
// added to every rule, so that the five candidate rules of the call's site
// each evaluate one expression.
func BenchmarkEvaluateExpr(b *testing.B) {
	_, calls := loadCalls(b)
	call := calls["answered-with-gclid"]
	src := strings.ReplaceAll(benchRules(50, false), "    when:\n",
		"    when:\n      expr: 'call.duration >= 30 && attribution.medium in [\"cpc\", \"ppc\"] && !call.has_gclid == false'\n")
	r, err := Parse("bench.yaml", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	deliveries := 0
	for b.Loop() {
		deliveries = len(r.Evaluate(call))
	}
	b.ReportMetric(float64(deliveries), "deliveries/op")
}

func BenchmarkParse(b *testing.B) {
	data := []byte(benchRules(50, false))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvaluateConcurrent runs Evaluate and Explain from many goroutines
// (meaningful under -race) and checks every result equals the sequential
// one.
func TestEvaluateConcurrent(t *testing.T) {
	t.Parallel()
	r, err := Parse("bench.yaml", []byte(benchRules(50, false)))
	if err != nil {
		t.Fatal(err)
	}
	names, calls := loadCalls(t)
	want := map[string]int{}
	for _, name := range names {
		want[name] = len(r.Evaluate(calls[name]))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16*len(names))
	for range 16 {
		wg.Go(func() {
			for _, name := range names {
				got := r.Evaluate(calls[name])
				checkConsistent(t, name, calls[name], got, r.Explain(calls[name]))
				if len(got) != want[name] {
					errs <- fmt.Sprintf("%s: %d deliveries, want %d", name, len(got), want[name])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
