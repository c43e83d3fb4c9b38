package mapping

import (
	"testing"

	"github.com/callforward/callforward/forwarder"
)

func TestWhyNone(t *testing.T) {
	rules, err := Parse("rules.yaml", []byte(`
destinations:
  web: {type: ga4, measurement_id: G-ABC1234}
rules:
  - name: answered
    when: {disposition: [ANSWERED]}
    send: [{to: web, event: phone_call}]
`))
	if err != nil {
		t.Fatal(err)
	}
	dur := 30
	tests := []struct {
		name string
		call forwarder.Call
		want string
	}{
		{"nothing matched", forwarder.Call{Event: forwarder.EventComplete, Disposition: "BUSY", Duration: &dur}, "no rule matched"},
		{"matched but no client id", forwarder.Call{Event: forwarder.EventComplete, Disposition: "ANSWERED", Duration: &dur},
			`rule "answered" matched but nothing could be sent: the call has no Google.Analytics.ClientId, GA4 needs the visitor's client id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.WhyNone(&tt.call); got != tt.want {
				t.Errorf("WhyNone = %q, want %q", got, tt.want)
			}
		})
	}
}
