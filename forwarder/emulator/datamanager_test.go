package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

const ingestPath = "/v1/events:ingest?alt=json&prettyPrint=false"

// dmDestination is a valid destination; extra is spliced in.
const dmDestination = `{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"1234567890"},"loginAccount":{"accountType":"GOOGLE_ADS","accountId":"1112223333"},"productDestinationId":"987654321"}`

// dmEvent is a valid event with transaction id tx; extra fields are
// spliced in (", ..." form).
func dmEvent(tx, extra string) string {
	return fmt.Sprintf(`{"adIdentifiers":{"gclid":"Cj0KCQ_abc-123"},"eventTimestamp":"2026-11-03T08:00:00Z","conversionValue":50,"currency":"AUD","transactionId":%q,"eventSource":"PHONE","userData":{"userIdentifiers":[{"phoneNumber":%q}]},"consent":{"adUserData":"CONSENT_GRANTED"}%s}`, tx, testHash, extra)
}

// dmBody is a request with the events given.
func dmBody(events ...string) string {
	return `{"destinations":[` + dmDestination + `],"encoding":"HEX","events":[` + strings.Join(events, ",") + `]}`
}

func TestIngestRecords(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
	h := s.Handler()
	tok := accessToken(t, h, "rt")

	rec := callAPI(h, ingestPath, tok, dmBody(dmEvent("T1", ""), dmEvent("T2", `,"callInfo":{"startTimestamp":"2026-11-03T07:59:00Z"}`)))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"requestId"`) {
		t.Fatalf("want 200 with a requestId, got %d: %s", rec.Code, rec.Body)
	}
	got := s.DataManagerEvents()
	if len(got) != 2 {
		t.Fatalf("want 2 events recorded, got %d", len(got))
	}
	e := got[1]
	want := emulator.DataManagerEvent{
		RequestID: e.RequestID, CustomerID: "1234567890", LoginCustomerID: "1112223333", ConversionAction: "987654321",
		GCLID: "Cj0KCQ_abc-123", HashedPhones: []string{testHash}, EventTimestamp: "2026-11-03T08:00:00Z",
		CallStart: "2026-11-03T07:59:00Z", Value: e.Value, Currency: "AUD", TransactionID: "T2", EventSource: "PHONE",
		AdUserData: "CONSENT_GRANTED", ReceivedAt: testNow,
	}
	if gj, wj := mustJSON(t, e), mustJSON(t, want); gj != wj || e.Value == nil || *e.Value != 50 {
		t.Errorf("recorded\n%s\nwant\n%s", gj, wj)
	}

	// Google accepts a duplicate and dedups it later: recorded once.
	rec = callAPI(h, ingestPath, tok, dmBody(dmEvent("T1", "")))
	if rec.Code != http.StatusOK {
		t.Fatalf("duplicate: want 200, got %d: %s", rec.Code, rec.Body)
	}
	if n, d := len(s.DataManagerEvents()), s.DataManagerDuplicates(); n != 2 || d != 1 {
		t.Errorf("after a duplicate: %d events and %d duplicates, want 2 and 1", n, d)
	}

	rec = callAPI(h, ingestPath, tok, strings.Replace(dmBody(dmEvent("T3", "")), `"encoding"`, `"validateOnly":true,"encoding"`, 1))
	if rec.Code != http.StatusOK || len(s.DataManagerEvents()) != 2 {
		t.Errorf("validateOnly: want 200 and nothing recorded, got %d and %d events", rec.Code, len(s.DataManagerEvents()))
	}
	if got := s.Requests(emulator.EndpointIngestEvents); got != 3 {
		t.Errorf("Requests(%s) = %d, want 3", emulator.EndpointIngestEvents, got)
	}
}

func TestIngestMultipleDestinations(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
	h := s.Handler()
	tok := accessToken(t, h, "rt")
	body := `{"destinations":[` +
		`{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"1234567890"},"productDestinationId":"1","reference":"a"},` +
		`{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"1234567890"},"productDestinationId":"2","reference":"b"}],` +
		`"encoding":"HEX","events":[` + dmEvent("T1", `,"destinationReferences":["b"]`) + `,` + dmEvent("T2", "") + `]}`
	if rec := callAPI(h, ingestPath, tok, body); rec.Code != http.StatusOK {
		t.Fatalf("want 200, got %d: %s", rec.Code, rec.Body)
	}
	var got []string
	for _, e := range s.DataManagerEvents() {
		got = append(got, e.TransactionID+"->"+e.ConversionAction)
	}
	if want := []string{"T1->2", "T2->1", "T2->2"}; !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v (an event without references goes to every destination)", got, want)
	}
}

func TestIngestFastFail(t *testing.T) {
	many := make([]string, 2001)
	for i := range many {
		many[i] = dmEvent(fmt.Sprint("T", i), "")
	}
	tests := []struct {
		name string
		body string
		want string // a reason or field:reason in the answer
	}{
		{"unknown field", strings.Replace(dmBody(dmEvent("T", "")), `"encoding"`, `"partialFailure":true,"encoding"`, 1), "INVALID_JSON"},
		{"timestamp without zone", dmBody(dmEvent("T1", ""), strings.Replace(dmEvent("T2", ""), "08:00:00Z", "08:00:00", 1)), "events[1].event_timestamp:INVALID_TIMESTAMP"},
		{"timestamp in Ads format", dmBody(strings.Replace(dmEvent("T1", ""), "2026-11-03T08:00:00Z", "2026-11-03 08:00:00+00:00", 1)), "events[0].event_timestamp:INVALID_TIMESTAMP"},
		{"future timestamp", dmBody(strings.Replace(dmEvent("T1", ""), "2026-11-03T08", "2026-11-04T08", 1)), "events[0].event_timestamp:TIMESTAMP_IN_FUTURE"},
		{"no timestamp", dmBody(strings.Replace(dmEvent("T1", ""), `"eventTimestamp":"2026-11-03T08:00:00Z",`, "", 1)), "events[0].event_timestamp:REQUIRED_FIELD_MISSING"},
		{"currency", dmBody(strings.Replace(dmEvent("T1", ""), `"AUD"`, `"aud"`, 1)), "events[0].currency:INVALID_CURRENCY_CODE"},
		{"uppercase hash", dmBody(strings.Replace(dmEvent("T1", ""), testHash, strings.ToUpper(testHash), 1)), "events[0].user_data.user_identifiers[0].phone_number:INVALID_HEX_ENCODING"},
		{"clear phone", dmBody(strings.Replace(dmEvent("T1", ""), testHash, "+61412345678", 1)), "events[0].user_data.user_identifiers[0].phone_number:INVALID_HEX_ENCODING"},
		{"no encoding", strings.Replace(dmBody(dmEvent("T1", "")), `"encoding":"HEX",`, "", 1), "encoding:ENCODING_REQUIRED"},
		{"bad gclid", dmBody(strings.Replace(dmEvent("T1", ""), "Cj0KCQ_abc-123", "Cj0 KCQ", 1)), "events[0].ad_identifiers.gclid:INVALID_GCLID"},
		{"no identifier", dmBody(`{"eventTimestamp":"2026-11-03T08:00:00Z","transactionId":"T"}`), "events[0]:MISSING_IDENTIFIER"},
		{"negative value", dmBody(strings.Replace(dmEvent("T1", ""), `"conversionValue":50`, `"conversionValue":-1`, 1)), "events[0].conversion_value:INVALID_CONVERSION_VALUE"},
		{"bad consent", dmBody(strings.Replace(dmEvent("T1", ""), "CONSENT_GRANTED", "GRANTED", 1)), "events[0].consent.ad_user_data:INVALID_ENUM_VALUE"},
		{"account id with dashes", strings.Replace(dmBody(dmEvent("T1", "")), `"1234567890"`, `"123-456-7890"`, 1), "destinations[0].operating_account.account_id:INVALID_ACCOUNT_ID"},
		{"action not digits", strings.Replace(dmBody(dmEvent("T1", "")), `"987654321"`, `"customers/1/conversionActions/2"`, 1), "destinations[0].product_destination_id:INVALID_PRODUCT_DESTINATION_ID"},
		{"no destination", `{"encoding":"HEX","events":[` + dmEvent("T1", "") + `]}`, "destinations:REQUIRED_FIELD_MISSING"},
		{"unknown reference", dmBody(dmEvent("T1", `,"destinationReferences":["x"]`)), "events[0].destination_references[0]:DESTINATION_REFERENCE_NOT_FOUND"},
		{"no events", dmBody(), "events:REQUIRED_FIELD_MISSING"},
		{"2001 events", dmBody(many...), "events:TOO_MANY_EVENTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
			h := s.Handler()
			rec := callAPI(h, ingestPath, accessToken(t, h, "rt"), tt.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("want 400, got %d: %s", rec.Code, rec.Body)
			}
			if got := reasons(t, rec); !slices.Contains(got, tt.want) || got[0] != "INVALID_ARGUMENT" {
				t.Errorf("reasons = %v, want INVALID_ARGUMENT and %s", got, tt.want)
			}
			if n := len(s.DataManagerEvents()); n != 0 {
				t.Errorf("a refused request recorded %d events", n)
			}
		})
	}
}

func TestIngestUnknownAction(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{KnownActions: []string{"111"}})
	h := s.Handler()
	rec := callAPI(h, ingestPath, accessToken(t, h, "rt"), dmBody(dmEvent("T1", "")))
	if got := reasons(t, rec); rec.Code != http.StatusBadRequest || !slices.Contains(got, "destinations[0].product_destination_id:PRODUCT_DESTINATION_NOT_FOUND") {
		t.Errorf("want 400 PRODUCT_DESTINATION_NOT_FOUND, got %d %v", rec.Code, got)
	}
}

func TestIngestFaults(t *testing.T) {
	s := emulator.New(emulator.Options{Now: func() time.Time { return testNow }, Faults: emulator.Faults{ErrorRate: 1}})
	h := s.Handler()
	tok := accessToken(t, h, "rt") // the token endpoint is never faulted
	rec := callAPI(h, ingestPath, tok, dmBody(dmEvent("T1", "")))
	if rec.Code < 500 {
		t.Fatalf("want a 5xx fault, got %d", rec.Code)
	}
	if n := s.Requests(emulator.EndpointIngestEvents); n != 0 {
		t.Errorf("a faulted request reached the handler: Requests = %d", n)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
