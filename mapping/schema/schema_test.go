package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/callforward/callforward/forwarder"
)

// compile compiles the schema, failing the test when it is not valid
// draft 2020-12.
func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSON))
	if err != nil {
		t.Fatalf("rules.schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("rules.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("rules.schema.json")
	if err != nil {
		t.Fatalf("rules.schema.json does not compile: %v", err)
	}
	return s
}

// yamlInstance converts a rules file to the JSON value the schema checks.
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("to JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestGoodFiles validates the shipped example and every rules file the
// mapping tests load.
func TestGoodFiles(t *testing.T) {
	s := compile(t)
	files, err := filepath.Glob("../testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules files in ../testdata (err %v)", err)
	}
	files = append(files, "../../examples/rules.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(yamlInstance(t, data)); err != nil {
				t.Errorf("%s does not validate against the schema, want it to:\n%v", f, err)
			}
		})
	}
}

// TestBrokenFiles checks that the schema refuses files with wrong keys,
// types and formats, and says where.
func TestBrokenFiles(t *testing.T) {
	s := compile(t)
	const head = "destinations:\n  web: {type: ga4, measurement_id: G-TEST1234}\nrules:\n"
	tests := []struct {
		name, yaml string
		// wantIn is a piece of the validation error: the place refused.
		wantIn string
	}{
		{"unknown top-level key", "destination: {}\nrules: []\n", "destination"},
		{"unknown matcher", head + "  - name: a\n    when: {dispositon: ANSWERED}\n    send: [{to: web, event: x}]\n", "/rules/0/when"},
		{"duration as text", head + "  - name: a\n    when: {min_duration: sixty}\n    send: [{to: web, event: x}]\n", "/rules/0/when/min_duration"},
		{"expr not text", head + "  - name: a\n    when: {expr: [a]}\n    send: [{to: web, event: x}]\n", "/rules/0/when/expr"},
		{"first call window of 0 days", head + "  - name: a\n    when: {first_call_within_days: 0}\n    send: [{to: web, event: x}]\n", "/rules/0/when/first_call_within_days"},
		{"first call window past the history kept", head + "  - name: a\n    when: {first_call_within_days: 401}\n    send: [{to: web, event: x}]\n", "/rules/0/when/first_call_within_days"},
		{"first call window as text", head + "  - name: a\n    when: {first_call_within_days: 30d}\n    send: [{to: web, event: x}]\n", "/rules/0/when/first_call_within_days"},
		{"bad measurement id", "destinations:\n  web: {type: ga4, measurement_id: UA-1}\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n", "/destinations/web"},
		{"unknown destination type", "destinations:\n  web: {type: GA4, measurement_id: G-TEST1234}\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n", "/destinations/web"},
		{"rule without send", head + "  - name: a\n", "/rules/0"},
		{"value expression with a typo", head + "  - name: a\n    send: [{to: web, event: x, params: {v: {exp: call.duration}}}]\n", "/rules/0/send/0"},
		{"user property name too long", head + "  - name: a\n    send: [{to: web, event: x, user_properties: {a_very_long_user_property_name: 1}}]\n", "/rules/0/send/0"},
		{"bad ua tracking id", "destinations:\n  old: {type: ua, tracking_id: UA-1}\nrules:\n  - name: a\n    send: [{to: old, category: c, action: a}]\n", "/destinations/old"},
		{"ua action without category", "destinations:\n  old: {type: ua, tracking_id: UA-1-1}\nrules:\n  - name: a\n    send: [{to: old, action: a, value: -1}]\n", "/rules/0/send/0"},
		{"ads value as text", "destinations:\n  ads: {type: google_ads, customer_id: 123-456-7890}\nrules:\n  - name: a\n    send: [{to: ads, conversion_action: '1', value: fifty, currency: AUD}]\n", "/rules/0/send/0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(yamlInstance(t, []byte(tc.yaml)))
			if err == nil {
				t.Fatalf("the schema accepts\n%s\nwant it refused", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("validation error does not mention %q:\n%v", tc.wantIn, err)
			}
		})
	}
}

// TestFirstCallMaximum keeps the schema's bound on first_call_within_days
// equal to the caller history the forwarder keeps.
func TestFirstCallMaximum(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Maximum *int `json:"maximum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSON, &doc); err != nil {
		t.Fatal(err)
	}
	got := doc.Defs["when"].Properties["first_call_within_days"].Maximum
	if got == nil || *got != forwarder.MaxCallerHistoryDays {
		t.Errorf("first_call_within_days maximum = %v, want %d (forwarder.MaxCallerHistoryDays)", got, forwarder.MaxCallerHistoryDays)
	}
}
