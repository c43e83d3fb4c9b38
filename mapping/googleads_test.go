package mapping

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func TestAdsDestinations(t *testing.T) {
	t.Parallel()
	r, err := Load("testdata/ads.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Destination{
		{Name: "ads", Type: "google_ads", CustomerID: "1234567890", LoginCustomerID: "1112223333", Backend: "data_manager", Pos: Pos{File: "testdata/ads.yaml", Line: 8, Col: 3}},
		{Name: "ads-api", Type: "google_ads", CustomerID: "9876543210", Backend: "google_ads_api", Pos: Pos{File: "testdata/ads.yaml", Line: 12, Col: 3}},
		{Name: "web", Type: "ga4", MeasurementID: "G-TEST1234", Pos: Pos{File: "testdata/ads.yaml", Line: 16, Col: 3}},
	}
	if got := r.Destinations(); !reflect.DeepEqual(got, want) {
		t.Errorf("Destinations() =\n  %+v\nwant\n  %+v", got, want)
	}
}

// adsRules is a rules file whose rule "r" sends the given action to a
// Google Ads destination (Google Ads API backend, so that kind: call is
// allowed), with settings: default_region: AU.
func adsRules(t *testing.T, action string) *Rules {
	t.Helper()
	src := "settings: {default_region: AU}\ndestinations:\n  ads: {type: google_ads, customer_id: 123-456-7890, backend: google_ads_api}\n" +
		"rules:\n  - name: r\n    send: [{to: ads, conversion_action: '1', " + action + "}]\n"
	r, err := Parse("rules.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", action, err)
	}
	return r
}

// adsCall is an answered 90-second call with the given caller and click id.
func adsCall(from, gclid string, survey *int) *forwarder.Call {
	dur := 90
	return &forwarder.Call{
		Event: forwarder.EventComplete, Sid: "CA1", StartDate: time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC),
		From: from, GCLID: gclid, Duration: &dur, Disposition: forwarder.DispositionAnswered,
		Survey: forwarder.Survey{Value: survey},
	}
}

func TestAdsSendability(t *testing.T) {
	t.Parallel()
	const (
		mobile   = "+61412345678"
		national = "0412 345 678"
		// printf '%s' '+61412345678' | sha256sum
		mobileHash = "bc65da54a3ddbacfdc93a0400f0a2d78e41c2180c8255015e9616facfe56f58a"
	)
	tests := []struct {
		name   string
		action string
		from   string
		gclid  string
		// want is the delivery's GCLID / HashedPhone / CallerID, or skip
		// the reason it is skipped.
		wantGCLID, wantHash, wantCaller string
		skip                            string
	}{
		{name: "click with GCLID", action: "kind: click", from: mobile, gclid: "g1", wantGCLID: "g1"},
		{name: "click without GCLID", action: "kind: click", from: mobile, skip: skipNoClickID},
		{name: "GCLID and hashed phone", action: "caller_phone: hashed", from: mobile, gclid: "g1", wantGCLID: "g1", wantHash: mobileHash},
		{name: "hashed phone alone", action: "caller_phone: hashed", from: mobile, wantHash: mobileHash},
		{name: "national number read in the default region", action: "caller_phone: hashed", from: national, wantHash: mobileHash},
		{name: "GCLID and anonymous caller", action: "caller_phone: hashed", from: "anonymous", gclid: "g1", wantGCLID: "g1"},
		{name: "anonymous caller without GCLID", action: "caller_phone: hashed", from: "anonymous",
			skip: "the call has no Google.AdWords.ClickId and no usable caller number for enhanced conversions (the caller withheld the number)"},
		{name: "no caller without GCLID", action: "caller_phone: hashed",
			skip: "the call has no Google.AdWords.ClickId and no usable caller number for enhanced conversions (the call has no Call.From)"},
		{name: "invalid caller without GCLID", action: "caller_phone: hashed", from: "+61 4123",
			skip: "the call has no Google.AdWords.ClickId and no usable caller number for enhanced conversions (Call.From is not a valid phone number)"},
		{name: "call conversion", action: "kind: call", from: national, gclid: "g1", wantCaller: mobile},
		{name: "call conversion of an anonymous caller", action: "kind: call", from: "anonymous", gclid: "g1",
			skip: "the call has no usable caller number, which identifies a call conversion (the caller withheld the number)"},
		{name: "call conversion without a caller", action: "kind: call",
			skip: "the call has no usable caller number, which identifies a call conversion (the call has no Call.From)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := adsRules(t, tc.action)
			c := adsCall(tc.from, tc.gclid, nil)
			ev := r.Evaluate(c)
			ex := r.Explain(c)
			checkConsistent(t, tc.name, c, ev, ex)
			if tc.skip != "" {
				if len(ev) != 0 || len(ex[0].Skipped) != 1 || ex[0].Skipped[0].Reason != tc.skip {
					t.Fatalf("got deliveries %+v, skips %+v; want the action skipped because %q", ev, ex[0].Skipped, tc.skip)
				}
				if tc.from != "" && strings.Contains(tc.skip, tc.from) {
					t.Errorf("the reason quotes the caller's number")
				}
				if got := r.WhyNone(c); got != `rule "r" matched but nothing could be sent: `+tc.skip {
					t.Errorf("WhyNone = %q", got)
				}
				return
			}
			if len(ev) != 1 {
				t.Fatalf("got %d deliveries (skips %+v), want 1", len(ev), ex[0].Skipped)
			}
			a := ev[0].Ads
			if a.GCLID != tc.wantGCLID || a.HashedPhone != tc.wantHash || a.CallerID != tc.wantCaller {
				t.Errorf("GCLID %q, hashed phone %q, caller id %q; want %q, %q, %q", a.GCLID, a.HashedPhone, a.CallerID, tc.wantGCLID, tc.wantHash, tc.wantCaller)
			}
		})
	}
}

func TestAdsValueAndTime(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	zero, survey, negative := 0, 350, -20
	start := time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	tests := []struct {
		name         string
		action       string
		survey       *int
		wantValue    *float64
		wantCurrency string
		wantTime     time.Time
		wantConsent  string
	}{
		{"no value", "", nil, nil, "", start, ""},
		{"constant", "value: 50, currency: AUD", nil, f(50), "AUD", start, ""},
		{"constant with decimals", "value: 49.95, currency: AUD", nil, f(49.95), "AUD", start, ""},
		{"constant zero", "value: 0, currency: AUD", nil, f(0), "AUD", start, ""},
		{"survey value", "value: '{{Call.Survey.Value}}', currency: AUD", &survey, f(350), "AUD", start, ""},
		{"survey value zero is sent", "value: '{{Call.Survey.Value}}', currency: AUD", &zero, f(0), "AUD", start, ""},
		{"absent survey value: no value, not 0", "value: '{{Call.Survey.Value}}', currency: AUD", nil, nil, "", start, ""},
		{"absent survey value with a default", "value: '{{Call.Survey.Value}}', default_value: 25, currency: AUD", nil, f(25), "AUD", start, ""},
		{"negative survey value falls back", "value: '{{Call.Survey.Value}}', default_value: 25, currency: AUD", &negative, f(25), "AUD", start, ""},
		{"negative survey value without default", "value: '{{Call.Survey.Value}}', currency: AUD", &negative, nil, "", start, ""},
		{"duration as value", "value: '{{Call.Duration}}', currency: USD", nil, f(90), "USD", start, ""},
		{"time end", "time: end", nil, nil, "", end, ""},
		{"time start", "time: start", nil, nil, "", start, ""},
		{"call conversions default to the end", "kind: call", nil, nil, "", end, ""},
		{"consent granted", "consent: {ad_user_data: granted}", nil, nil, "", start, "GRANTED"},
		{"consent denied", "consent: {ad_user_data: Denied}", nil, nil, "", start, "DENIED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := adsRules(t, tc.action)
			c := adsCall("+61412345678", "g1", tc.survey)
			ev := r.Evaluate(c)
			checkConsistent(t, tc.name, c, ev, r.Explain(c))
			if len(ev) != 1 {
				t.Fatalf("got %d deliveries, want 1", len(ev))
			}
			a := ev[0].Ads
			if !reflect.DeepEqual(a.Value, tc.wantValue) || a.Currency != tc.wantCurrency {
				t.Errorf("value %v %q, want %v %q", ptrString(a.Value), a.Currency, ptrString(tc.wantValue), tc.wantCurrency)
			}
			if !a.Time.Equal(tc.wantTime) || !a.CallStart.Equal(start) {
				t.Errorf("time %v (call start %v), want %v (%v)", a.Time, a.CallStart, tc.wantTime, start)
			}
			if a.AdUserData != tc.wantConsent {
				t.Errorf("ad user data %q, want %q", a.AdUserData, tc.wantConsent)
			}
		})
	}
}

func ptrString(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}

func TestAdsDelivery(t *testing.T) {
	t.Parallel()
	r, err := Load("testdata/ads.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, calls := loadCalls(t)
	c := calls["answered-with-gclid"]
	ev := r.Evaluate(c)
	if len(ev) == 0 {
		t.Fatal("no deliveries")
	}
	value := 50.0
	want := forwarder.Delivery{
		ID:          "CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b/gclid-only/ads",
		CallSid:     "CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b",
		Rule:        "gclid-only",
		Destination: "ads",
		Type:        forwarder.DestinationGoogleAds,
		CallTime:    c.StartDate,
		Ads: &forwarder.AdsConversion{
			Backend:          forwarder.AdsBackendDataManager,
			Kind:             forwarder.AdsClick,
			CustomerID:       "1234567890",
			LoginCustomerID:  "1112223333",
			ConversionAction: "987654321",
			Time:             c.StartDate,
			CallStart:        c.StartDate,
			GCLID:            c.GCLID,
			Value:            &value,
			Currency:         "AUD",
			TransactionID:    transactionID(c.Sid, "gclid-only"),
		},
	}
	if !reflect.DeepEqual(ev[0], want) {
		t.Errorf("first delivery\n  %+v\n  %+v\nwant\n  %+v\n  %+v", ev[0], ev[0].Ads, want, want.Ads)
	}
}

func TestTransactionID(t *testing.T) {
	t.Parallel()
	// Computed independently with
	//   python3 -c "import hashlib; h=hashlib.sha256(b'CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b/qualified-call-to-ads').digest()[:16]; print(''.join('abcdefghijklmnop'[b>>4]+'abcdefghijklmnop'[b&15] for b in h))"
	const want = "gbihcoidfngddknbednbjcebpkmmddko"
	if got := transactionID("CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b", "qualified-call-to-ads"); got != want {
		t.Errorf("transactionID = %q, want %q", got, want)
	}
	seen := map[string]string{}
	for _, sid := range []string{"CA1", "CA2", "CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b"} {
		for _, rule := range []string{"a", "b", "qualified-call-to-ads"} {
			id := transactionID(sid, rule)
			if id != transactionID(sid, rule) {
				t.Errorf("transactionID(%s, %s) is not stable", sid, rule)
			}
			if !noDigits32.MatchString(id) {
				t.Errorf("transactionID(%s, %s) = %q, want 32 letters a-p", sid, rule, id)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("transactionID(%s, %s) = transactionID of %s", sid, rule, prev)
			}
			seen[id] = sid + "/" + rule
		}
	}
}
