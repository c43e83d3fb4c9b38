package mapping

import (
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 100, "short"},
		{strings.Repeat("a", 100), 100, strings.Repeat("a", 100)},
		{strings.Repeat("a", 101), 100, strings.Repeat("a", 100)},
		{strings.Repeat("é", 101), 100, strings.Repeat("é", 100)}, // 202 bytes, cut at characters
		{strings.Repeat("é", 60), 100, strings.Repeat("é", 60)},   // 120 bytes, 60 characters
		{"abc", 0, "abc"},
	}
	for _, tc := range tests {
		if got := truncate(tc.in, tc.max); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestValueRender(t *testing.T) {
	t.Parallel()
	dur := 42
	c := &forwarder.Call{Duration: &dur, FromCity: "Sydney", Disposition: "ANSWERED"}
	empty := &forwarder.Call{}
	tests := []struct {
		src       string
		want      any
		wantEmpty any // rendered for a call without the fields; nil: omitted
	}{
		{`25`, 25, 25},
		{`-2.5`, -2.5, -2.5},
		{`0x10`, 16, 16},
		{`"25"`, "25", "25"},
		{`flat rate`, "flat rate", "flat rate"},
		{`"{{Call.Duration}}"`, 42, nil},
		{`"{{ Call.Duration }}"`, 42, nil},
		{`"{{Call.From.City}}"`, "Sydney", nil},
		{`"{{Call.Duration}}s in {{Call.From.City}}"`, "42s in Sydney", "s in "},
		{`"{{Call.From.Region}}{{Call.Region}}"`, nil, nil},
		{`"{{Call.From.City}}` + strings.Repeat("x", 99) + `"`, "Sydney" + strings.Repeat("x", 94), strings.Repeat("x", 99)},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			l := newLoader("t.yaml")
			v, ok := l.compileValue(doc.Content[0], "", "value", ga4Limits)
			if !ok || len(l.errs) > 0 {
				t.Fatalf("compileValue(%s) failed: %v", tc.src, l.errs)
			}
			for _, run := range []struct {
				call *forwarder.Call
				want any
			}{{c, tc.want}, {empty, tc.wantEmpty}} {
				got, present := v.render(run.call)
				if !present {
					got = nil
				}
				if got != run.want {
					t.Errorf("render = %#v, want %#v", got, run.want)
				}
			}
		})
	}
}
