package mapping

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	if len(brokenCases) < 15 {
		t.Fatalf("only %d broken cases, want at least 15", len(brokenCases))
	}
	for _, tc := range brokenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse("rules.yaml", []byte(tc.yaml))
			if r != nil {
				t.Errorf("Parse returned rules together with error %v", err)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse error = %v (%T), want an ErrorList", err, err)
			}
			if joined := strings.Join(tc.want, "\n"); err.Error() != joined {
				t.Errorf("Error() =\n%s\nwant\n%s", err.Error(), joined)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			var one *Error
			if !errors.As(err, &one) || one.Pos.File != "rules.yaml" || one.Pos.Line == 0 {
				t.Errorf("errors.As(*Error) = %+v, want the first problem with a position", one)
			}
		})
	}
}

func TestParseTooManyProblems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(head)
	for range 200 {
		b.WriteString("  - {name: x, send: [{to: web, event: page_view}]}\n")
	}
	_, err := Parse("rules.yaml", []byte(b.String()))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse error = %v, want an ErrorList", err)
	}
	if len(list) != maxErrors+1 || !strings.Contains(list[len(list)-1].Msg, "too many problems") {
		t.Errorf("got %d problems ending with %q, want %d ending with a 'too many problems' note", len(list), list[len(list)-1].Msg, maxErrors+1)
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "clean file",
			yaml: head + "  - name: a\n    when: {disposition: [ANSWERED, no answer], traffic_type: organic}\n    send: [{to: web, event: x, params: {value: 1, currency: AUD}}]\n",
		},
		{
			name: "unused destination",
			yaml: "destinations:\n  web: {type: ga4, measurement_id: G-TEST1234}\n  spare: {type: ga4, measurement_id: G-SPARE123}\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n",
			want: []string{`rules.yaml:3:3: destination "spare": no rule sends to it`},
		},
		{
			name: "unknown matcher values",
			yaml: head + "  - name: a\n    when:\n      event: Call.Transfer\n      disposition: [NO_ANSWER, VOICEMAIL]\n      traffic_type: Paid\n    send: [{to: web, event: x}]\n",
			want: []string{
				`rules.yaml:6:14: rule "a": event "Call.Transfer" is not one the platform documents (Call.Complete, Call.Initiate); the rule only matches if it starts sending it`,
				`rules.yaml:7:21: rule "a": disposition "NO_ANSWER" is not one the platform documents (ANSWERED, NO ANSWER, BUSY, IVR, FAILED); kept in case the platform adds it (did you mean "NO ANSWER", with a space?)`,
				`rules.yaml:7:32: rule "a": disposition "VOICEMAIL" is not one the platform documents (ANSWERED, NO ANSWER, BUSY, IVR, FAILED); kept in case the platform adds it`,
				`rules.yaml:8:21: rule "a": traffic_type "Paid" is not one the platform documents (Campaign, Direct, Organic, Referral, Unattributed)`,
			},
		},
		{
			name: "undocumented references and value without currency",
			yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        params:\n          value: \"{{Call.Surveyvalue}}\"\n          tag: \"{{Crm.Tag}}\"\n",
			want: []string{
				`rules.yaml:9:18: rule "a", send to "web": parameter "value": {{Call.Surveyvalue}} is not a documented webhook parameter; it will be read from the call's extra parameters and be empty when the platform does not send it (did you mean Call.Survey.Value?)`,
				`rules.yaml:9:18: rule "a", send to "web": parameter "value" reads {{Call.Surveyvalue}}, which is text; GA4 only sums numeric values`,
				`rules.yaml:9:18: rule "a", send to "web": parameter "value" without a "currency": GA4 ignores the value of an event that has no currency (add e.g. currency: AUD)`,
				`rules.yaml:10:16: rule "a", send to "web": parameter "tag": {{Crm.Tag}} is not a documented webhook parameter; it will be read from the call's extra parameters and be empty when the platform does not send it`,
			},
		},
		{
			name: "google_ads currency without value, unused destination",
			yaml: "destinations:\n  ads: {type: google_ads, customer_id: 123-456-7890}\n  spare: {type: google_ads, customer_id: '1234567890'}\nrules:\n  - name: a\n    send: [{to: ads, conversion_action: '1', currency: AUD}]\n",
			want: []string{
				`rules.yaml:3:3: destination "spare": no rule sends to it`,
				`rules.yaml:6:56: rule "a", send to "ads": currency without value: Google Ads uses the conversion action's own value and currency, so this currency is not sent`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse("rules.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := r.Warnings(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("warnings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestAliases(t *testing.T) {
	t.Parallel()
	src := head + `  - name: a
    when: &answered {disposition: ANSWERED}
    send: [{to: web, event: x, params: &common {outcome: "{{Call.Disposition}}", n: 1}}]
  - name: b
    when: *answered
    send: [{to: web, event: y, params: *common}]
`
	r, err := Parse("rules.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, calls := loadCalls(t)
	got := r.Evaluate(calls["answered-with-gclid"])
	if len(got) != 2 || got[1].GA4.Params["outcome"] != "ANSWERED" || got[1].GA4.Params["n"] != 1 {
		t.Errorf("Evaluate = %+v, want two deliveries, the second with the aliased params", got)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("positions name the path", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(head+"  - name: a\n    send: [{to: nowhere, event: x}]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if want := path + `:5:17: rule "a": destination "nowhere" is not defined under destinations:`; err == nil || err.Error() != want {
			t.Errorf("Load error = %v, want %s", err, want)
		}
	})
	t.Run("too large", func(t *testing.T) {
		path := filepath.Join(dir, "big.yaml")
		if err := os.WriteFile(path, make([]byte, maxFileSize+1), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("Load of a %d-byte file: %v, want a size error", maxFileSize+1, err)
		}
	})
	t.Run("accessors", func(t *testing.T) {
		r, err := Load("testdata/values.yaml")
		if err != nil {
			t.Fatal(err)
		}
		want := []Destination{
			{Name: "web", Type: "ga4", MeasurementID: "G-TEST1234", Pos: Pos{File: "testdata/values.yaml", Line: 4, Col: 3}},
			{Name: "second", Type: "ga4", MeasurementID: "G-SECOND99", Pos: Pos{File: "testdata/values.yaml", Line: 5, Col: 3}},
		}
		if got := r.Destinations(); !reflect.DeepEqual(got, want) {
			t.Errorf("Destinations() = %+v, want %+v", got, want)
		}
		if got := r.RuleNames(); !reflect.DeepEqual(got, []string{"values"}) {
			t.Errorf("RuleNames() = %v, want [values]", got)
		}
		if r.Name() != "testdata/values.yaml" {
			t.Errorf("Name() = %q, want testdata/values.yaml", r.Name())
		}
	})
}
