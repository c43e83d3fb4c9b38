package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// loadCalls reads testdata/calls/*.json, by file name without extension.
func loadCalls(t testing.TB) (names []string, calls map[string]*forwarder.Call) {
	t.Helper()
	files, err := filepath.Glob("testdata/calls/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test calls in testdata/calls (err %v)", err)
	}
	calls = map[string]*forwarder.Call{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c forwarder.Call
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		names = append(names, name)
		calls[name] = &c
	}
	return names, calls
}

// goldenCall is the recorded result of one call under one rules file.
type goldenCall struct {
	Call string `json:"call"`
	// Evaluate holds the IDs of the deliveries Evaluate returned; the
	// deliveries themselves are in Explain (checkConsistent asserts they
	// are the same).
	Evaluate []string  `json:"evaluate"`
	Explain  []Outcome `json:"explain"`
}

type golden struct {
	Warnings []string     `json:"warnings"`
	Calls    []goldenCall `json:"calls"`
}

// TestGolden evaluates every testdata/*.yaml against every call in
// testdata/calls and compares with testdata/*.golden.json (-update
// rewrites them).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules files in testdata (err %v)", err)
	}
	names, calls := loadCalls(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r, err := Load(file)
			if err != nil {
				t.Fatalf("Load(%s): %v", file, err)
			}
			g := golden{Warnings: r.Warnings()}
			for _, name := range names {
				c := calls[name]
				ev := r.Evaluate(c)
				ex := r.Explain(c)
				checkConsistent(t, name, c, ev, ex)
				ids := []string{}
				for _, d := range ev {
					ids = append(ids, d.ID)
				}
				g.Calls = append(g.Calls, goldenCall{Call: name, Evaluate: ids, Explain: ex})
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := strings.TrimSuffix(file, ".yaml") + ".golden.json"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the output (run go test -update and review the diff):\n%s", path, lineDiff(string(want), string(got)))
			}
		})
	}
}

// checkConsistent asserts what must hold for every call: Explain lists
// exactly the deliveries Evaluate returns, and delivery fields follow the
// call.
func checkConsistent(t *testing.T, name string, c *forwarder.Call, ev []forwarder.Delivery, ex []Outcome) {
	t.Helper()
	var fromExplain []forwarder.Delivery
	for _, o := range ex {
		fromExplain = append(fromExplain, o.Deliveries...)
		if !o.Matched && (len(o.Deliveries) > 0 || len(o.Skipped) > 0 || o.Reason == "") {
			t.Errorf("%s: rule %s did not match but has deliveries %v / skips %v / reason %q", name, o.Rule, o.Deliveries, o.Skipped, o.Reason)
		}
	}
	if !reflect.DeepEqual(ev, fromExplain) {
		t.Errorf("%s: Evaluate returned %d deliveries, Explain lists %d:\nEvaluate %+v\nExplain  %+v", name, len(ev), len(fromExplain), ev, fromExplain)
	}
	for _, d := range ev {
		if want := forwarder.DeliveryID(c.Sid, d.Rule, d.Destination); d.ID != want {
			t.Errorf("%s: delivery ID %q, want %q", name, d.ID, want)
		}
		if d.CallSid != c.Sid || !d.CallTime.Equal(c.StartDate) {
			t.Errorf("%s: delivery %+v does not follow the call", name, d)
		}
		switch d.Type {
		case forwarder.DestinationGA4:
			checkGA4Delivery(t, name, c, d)
		case forwarder.DestinationGoogleAds:
			checkAdsDelivery(t, name, c, d)
		case forwarder.DestinationUA:
			checkUADelivery(t, name, c, d)
		default:
			t.Errorf("%s: delivery %s has type %q", name, d.ID, d.Type)
		}
	}
}

// checkGA4Delivery asserts that a GA4 delivery follows the call and GA4's
// constraints.
func checkGA4Delivery(t *testing.T, name string, c *forwarder.Call, d forwarder.Delivery) {
	t.Helper()
	if d.GA4 == nil || d.Ads != nil || d.GA4.ClientID != forwarder.CleanText(c.GAClientID) || !d.GA4.Time.Equal(c.StartDate) {
		t.Errorf("%s: GA4 delivery %+v does not follow the call", name, d)
		return
	}
	for k, v := range d.GA4.Params {
		switch v := v.(type) {
		case string:
			if n := len([]rune(v)); n > 100 || n == 0 {
				t.Errorf("%s: param %s has %d characters, want 1..100", name, k, n)
			}
		case int, float64:
		default:
			t.Errorf("%s: param %s has type %T, want string or number", name, k, v)
		}
	}
	for k, v := range d.GA4.UserProperties {
		switch v := v.(type) {
		case string:
			if n := len([]rune(v)); n > 36 || n == 0 {
				t.Errorf("%s: user property %s has %d characters, want 1..36", name, k, n)
			}
		case int, float64:
		default:
			t.Errorf("%s: user property %s has type %T, want string or number", name, k, v)
		}
	}
}

var (
	tenDigits   = regexp.MustCompile(`^[0-9]{10}$`)
	digitsOnly  = regexp.MustCompile(`^[0-9]+$`)
	lowerSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	e164        = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	noDigits32  = regexp.MustCompile(`^[a-p]{32}$`)
)

// checkAdsDelivery asserts that a Google Ads delivery follows the call and
// Google's constraints: something to match it by, personal data only in
// the form the kind needs, a non-negative value with its currency.
func checkAdsDelivery(t *testing.T, name string, c *forwarder.Call, d forwarder.Delivery) {
	t.Helper()
	a := d.Ads
	if a == nil || d.GA4 != nil {
		t.Errorf("%s: Google Ads delivery %s has Ads %v and GA4 %v", name, d.ID, a, d.GA4)
		return
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: delivery %s: %s", name, d.ID, fmt.Sprintf(format, args...))
	}
	if !tenDigits.MatchString(a.CustomerID) || (a.LoginCustomerID != "" && !tenDigits.MatchString(a.LoginCustomerID)) {
		fail("customer ids %q / %q, want 10 digits", a.CustomerID, a.LoginCustomerID)
	}
	if !digitsOnly.MatchString(a.ConversionAction) {
		fail("conversion action %q, want digits", a.ConversionAction)
	}
	if a.Backend != forwarder.AdsBackendDataManager && a.Backend != forwarder.AdsBackendGoogleAdsAPI {
		fail("backend %q", a.Backend)
	}
	if a.HashedPhone != "" && (!lowerSHA256.MatchString(a.HashedPhone) || c.CallerPhone() == "") {
		fail("hashed phone %q for caller %q, want 64 lowercase hex characters of a known caller", a.HashedPhone, c.From)
	}
	switch a.Kind {
	case forwarder.AdsClick:
		if a.GCLID != c.GCLID || (a.GCLID == "" && a.HashedPhone == "") || a.CallerID != "" {
			fail("click conversion with GCLID %q (call %q), hashed phone %q, caller id %q: want the call's GCLID or a hashed phone, and no caller id", a.GCLID, c.GCLID, a.HashedPhone, a.CallerID)
		}
	case forwarder.AdsCall:
		if !e164.MatchString(a.CallerID) || c.Anonymous() || a.GCLID != "" || a.HashedPhone != "" || a.Backend != forwarder.AdsBackendGoogleAdsAPI {
			fail("call conversion with caller id %q, GCLID %q, hashed phone %q, backend %s: want an E.164 caller id only, through the Google Ads API", a.CallerID, a.GCLID, a.HashedPhone, a.Backend)
		}
		if !a.Time.After(c.StartDate) && c.EndTime().After(c.StartDate) {
			fail("call conversion time %v is not after the call's start %v", a.Time, c.StartDate)
		}
	default:
		fail("kind %q", a.Kind)
	}
	if !a.CallStart.Equal(c.StartDate) || (!a.Time.Equal(c.StartDate) && !a.Time.Equal(c.EndTime())) {
		fail("times %v / %v, want the call's start %v or end %v", a.CallStart, a.Time, c.StartDate, c.EndTime())
	}
	if (a.Value == nil) != (a.Currency == "") || (a.Value != nil && (*a.Value < 0 || !currencyCode.MatchString(a.Currency))) {
		fail("value %v with currency %q, want a value of 0 or more with a currency, or neither", a.Value, a.Currency)
	}
	if want := transactionID(c.Sid, d.Rule); a.TransactionID != want || !noDigits32.MatchString(a.TransactionID) {
		fail("transaction id %q, want %q (32 letters a-p)", a.TransactionID, want)
	}
	if a.AdUserData != "" && a.AdUserData != "GRANTED" && a.AdUserData != "DENIED" {
		fail("ad user data %q", a.AdUserData)
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}
