package emulator_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// event returns a request body with one event named name with params
// (a JSON object text).
func event(name, params string) string {
	return fmt.Sprintf(`{"client_id":%q,"events":[{"name":%q,"params":%s}]}`, testClientID, name, params)
}

// paramsJSON returns a JSON object with n numeric params.
func paramsJSON(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"p%d":%d`, i, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// eventsJSON returns a request body with n valid events.
func eventsJSON(n int) string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = `{"name":"phone_call"}`
	}
	return fmt.Sprintf(`{"client_id":%q,"events":[%s]}`, testClientID, strings.Join(evs, ","))
}

// userProp returns a request body with one event and the user property
// name set to prop (a JSON text).
func userProp(name, prop string) string {
	return fmt.Sprintf(`{"client_id":%q,"user_properties":{%q:%s},"events":[{"name":"phone_call"}]}`, testClientID, name, prop)
}

// userProps returns a request body with one event and n user properties.
func userProps(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"prop_%d":{"value":%d}`, i, i)
	}
	return fmt.Sprintf(`{"client_id":%q,"user_properties":{%s},"events":[{"name":"phone_call"}]}`, testClientID, strings.Join(parts, ","))
}

func TestGA4ValidationRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		query string // validQuery when empty
		body  string
		want  []finding
	}{
		{name: "valid", body: validBody()},
		{name: "no api_secret: not checked by the validation server", query: "?measurement_id=" + testMID, body: validBody()},
		{name: "minimal event", body: event("phone_call", "{}")},
		{name: "no params", body: fmt.Sprintf(`{"client_id":%q,"events":[{"name":"phone_call"}]}`, testClientID)},
		{name: "optional fields Google knows", body: fmt.Sprintf(`{"client_id":%q,"user_id":"crm-42","consent":{"ad_user_data":"GRANTED"},"non_personalized_ads":false,"events":[{"name":"phone_call","timestamp_micros":%d}]}`, testClientID, micros(-time.Hour))},

		{name: "consent with both signals", body: fmt.Sprintf(`{"client_id":%q,"consent":{"ad_user_data":"DENIED","ad_personalization":"GRANTED"},"events":[{"name":"phone_call"}]}`, testClientID)},
		{name: "consent in lower case", body: fmt.Sprintf(`{"client_id":%q,"consent":{"ad_user_data":"granted"},"events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"consent.ad_user_data", "VALUE_INVALID"}}},
		{name: "consent signal unknown", body: fmt.Sprintf(`{"client_id":%q,"consent":{"ad_storage":"GRANTED","ad_personalization":true},"events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"consent.ad_personalization", "VALUE_INVALID"}, {"consent.ad_storage", "VALUE_INVALID"}}},
		{name: "consent not an object", body: fmt.Sprintf(`{"client_id":%q,"consent":"GRANTED","events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"consent", "VALUE_INVALID"}}},

		{name: "measurement_id missing", query: "?api_secret=x", body: validBody(),
			want: []finding{{"measurement_id", "VALUE_REQUIRED"}}},
		{name: "measurement_id is a stream number", query: "?measurement_id=1234567&api_secret=x", body: validBody(),
			want: []finding{{"measurement_id", "VALUE_INVALID"}}},
		{name: "measurement_id in lower case", query: "?measurement_id=g-abc123&api_secret=x", body: validBody(),
			want: []finding{{"measurement_id", "VALUE_INVALID"}}},

		{name: "body not JSON", body: "client_id=1.2", want: []finding{{"", "VALUE_INVALID"}}},
		{name: "body a JSON array", body: "[]", want: []finding{{"", "VALUE_INVALID"}}},
		{name: "data after the object", body: validBody() + "{}", want: []finding{{"", "VALUE_INVALID"}}},
		{name: "empty body", body: "", want: []finding{{"", "VALUE_INVALID"}}},
		{name: "unknown field", body: fmt.Sprintf(`{"client_id":%q,"timestamp_micro":1,"events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"timestamp_micro", "VALUE_INVALID"}}},

		{name: "client_id missing", body: `{"events":[{"name":"phone_call"}]}`, want: []finding{{"client_id", "VALUE_REQUIRED"}}},
		{name: "client_id empty", body: `{"client_id":"","events":[{"name":"phone_call"}]}`, want: []finding{{"client_id", "VALUE_REQUIRED"}}},
		{name: "client_id a number", body: `{"client_id":1.2,"events":[{"name":"phone_call"}]}`, want: []finding{{"client_id", "VALUE_INVALID"}}},
		{name: "user_id a number", body: fmt.Sprintf(`{"client_id":%q,"user_id":42,"events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"user_id", "VALUE_INVALID"}}},

		{name: "events missing", body: fmt.Sprintf(`{"client_id":%q}`, testClientID), want: []finding{{"events", "VALUE_REQUIRED"}}},
		{name: "events empty", body: fmt.Sprintf(`{"client_id":%q,"events":[]}`, testClientID), want: []finding{{"events", "VALUE_REQUIRED"}}},
		{name: "events an object", body: fmt.Sprintf(`{"client_id":%q,"events":{"name":"x"}}`, testClientID), want: []finding{{"events", "VALUE_INVALID"}}},
		{name: "25 events", body: eventsJSON(25)},
		{name: "26 events", body: eventsJSON(26), want: []finding{{"events", "EXCEEDED_MAX_ENTITIES"}}},
		{name: "event not an object", body: fmt.Sprintf(`{"client_id":%q,"events":["phone_call"]}`, testClientID),
			want: []finding{{"events[0]", "VALUE_INVALID"}}},
		{name: "event with unknown field", body: fmt.Sprintf(`{"client_id":%q,"events":[{"name":"phone_call","parameters":{}}]}`, testClientID),
			want: []finding{{"events[0].parameters", "VALUE_INVALID"}}},

		{name: "event name missing", body: fmt.Sprintf(`{"client_id":%q,"events":[{"params":{}}]}`, testClientID),
			want: []finding{{"events[0].name", "VALUE_REQUIRED"}}},
		{name: "event name a number", body: fmt.Sprintf(`{"client_id":%q,"events":[{"name":7}]}`, testClientID),
			want: []finding{{"events[0].name", "VALUE_INVALID"}}},
		{name: "event name starts with a digit", body: event("1st_call", "{}"), want: []finding{{"events[0].name", "NAME_INVALID"}}},
		{name: "event name with a dash", body: event("phone-call", "{}"), want: []finding{{"events[0].name", "NAME_INVALID"}}},
		{name: "event name with a space", body: event("phone call", "{}"), want: []finding{{"events[0].name", "NAME_INVALID"}}},
		{name: "event name 40 chars", body: event(long(40), "{}")},
		{name: "event name 41 chars", body: event(long(41), "{}"), want: []finding{{"events[0].name", "NAME_INVALID"}}},
		{name: "reserved event name", body: event("page_view", "{}"), want: []finding{{"events[0].name", "NAME_RESERVED"}}},
		{name: "reserved app event name", body: event("app_update", "{}"), want: []finding{{"events[0].name", "NAME_RESERVED"}}},
		{name: "reserved event prefix _", body: event("_call", "{}"), want: []finding{{"events[0].name", "NAME_RESERVED"}}},
		{name: "reserved event prefix google_", body: event("google_call", "{}"), want: []finding{{"events[0].name", "NAME_RESERVED"}}},
		{name: "reserved event prefix gtag.", body: event("gtag.call", "{}"), want: []finding{{"events[0].name", "NAME_RESERVED"}}},
		{name: "reserved event prefix notification_", body: event("notification_open", "{}"), want: []finding{{"events[0].name", "NAME_RESERVED"}}},

		{name: "25 params", body: event("phone_call", paramsJSON(25))},
		{name: "26 params", body: event("phone_call", paramsJSON(26)), want: []finding{{"events[0].params", "EXCEEDED_MAX_ENTITIES"}}},
		{name: "params not an object", body: event("phone_call", `[1]`), want: []finding{{"events[0].params", "VALUE_INVALID"}}},
		{name: "session_id and engagement_time_msec are expected", body: event("phone_call", `{"session_id":"1792999100","engagement_time_msec":1}`)},
		{name: "reserved param prefix ga_", body: event("phone_call", `{"ga_session":"x"}`), want: []finding{{"events[0].params.ga_session", "NAME_RESERVED"}}},
		{name: "reserved param prefix firebase_", body: event("phone_call", `{"firebase_x":"x"}`), want: []finding{{"events[0].params.firebase_x", "NAME_RESERVED"}}},
		{name: "param name starts with a digit", body: event("phone_call", `{"1x":"x"}`), want: []finding{{"events[0].params.1x", "NAME_INVALID"}}},
		{name: "param name 41 chars", body: event("phone_call", `{"`+long(41)+`":1}`), want: []finding{{"events[0].params." + long(41), "NAME_INVALID"}}},
		{name: "param value 100 chars", body: event("phone_call", `{"note":"`+long(100)+`"}`)},
		{name: "param value 100 multi-byte chars", body: event("phone_call", `{"note":"`+strings.Repeat("é", 100)+`"}`)},
		{name: "param value 101 chars", body: event("phone_call", `{"note":"`+long(101)+`"}`), want: []finding{{"events[0].params.note", "VALUE_OUT_OF_BOUNDS"}}},
		{name: "page_location 1000 chars", body: event("phone_call", `{"page_location":"`+long(1000)+`"}`)},
		{name: "page_location 1001 chars", body: event("phone_call", `{"page_location":"`+long(1001)+`"}`), want: []finding{{"events[0].params.page_location", "VALUE_OUT_OF_BOUNDS"}}},
		{name: "param value a boolean", body: event("phone_call", `{"answered":true}`), want: []finding{{"events[0].params.answered", "VALUE_INVALID"}}},
		{name: "param value null", body: event("phone_call", `{"note":null}`), want: []finding{{"events[0].params.note", "VALUE_INVALID"}}},
		{name: "param value an object", body: event("phone_call", `{"note":{"a":1}}`), want: []finding{{"events[0].params.note", "VALUE_INVALID"}}},
		{name: "param value an array", body: event("phone_call", `{"keys":[1,2]}`), want: []finding{{"events[0].params.keys", "VALUE_INVALID"}}},
		{name: "items array", body: event("purchase", `{"items":[{"item_id":"call"}]}`)},

		{name: "timestamp 71 h old", body: fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[{"name":"phone_call"}]}`, testClientID, micros(-71*time.Hour))},
		{name: "timestamp 73 h old", body: fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[{"name":"phone_call"}]}`, testClientID, micros(-73*time.Hour)),
			want: []finding{{"timestamp_micros", "VALUE_OUT_OF_BOUNDS"}}},
		{name: "event timestamp 73 h old", body: fmt.Sprintf(`{"client_id":%q,"events":[{"name":"phone_call","timestamp_micros":%d}]}`, testClientID, micros(-73*time.Hour)),
			want: []finding{{"events[0].timestamp_micros", "VALUE_OUT_OF_BOUNDS"}}},
		{name: "timestamp a string", body: fmt.Sprintf(`{"client_id":%q,"timestamp_micros":"%d","events":[{"name":"phone_call"}]}`, testClientID, micros(0)),
			want: []finding{{"timestamp_micros", "VALUE_INVALID"}}},
		{name: "timestamp a fraction", body: fmt.Sprintf(`{"client_id":%q,"timestamp_micros":1.5,"events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"timestamp_micros", "VALUE_INVALID"}}},

		{name: "user properties", body: fmt.Sprintf(`{"client_id":%q,"user_properties":{"caller_country":{"value":"Australia"},"lifetime_calls":{"value":3,"timestamp_micros":%d},"old_flag":{"value":null}},"events":[{"name":"phone_call"}]}`, testClientID, micros(-time.Hour))},
		{name: "25 user properties", body: userProps(25)},
		{name: "26 user properties", body: userProps(26), want: []finding{{"user_properties", "EXCEEDED_MAX_ENTITIES"}}},
		{name: "user_properties not an object", body: fmt.Sprintf(`{"client_id":%q,"user_properties":[],"events":[{"name":"phone_call"}]}`, testClientID),
			want: []finding{{"user_properties", "VALUE_INVALID"}}},
		{name: "user property not an object", body: userProp("caller_country", `"Australia"`),
			want: []finding{{"user_properties.caller_country", "VALUE_INVALID"}}},
		{name: "user property without value", body: userProp("caller_country", `{}`),
			want: []finding{{"user_properties.caller_country.value", "VALUE_REQUIRED"}}},
		{name: "user property value a boolean", body: userProp("vip", `{"value":true}`),
			want: []finding{{"user_properties.vip.value", "VALUE_INVALID"}}},
		{name: "user property value 36 chars", body: userProp("note", `{"value":"`+long(36)+`"}`)},
		{name: "user property value 37 chars", body: userProp("note", `{"value":"`+long(37)+`"}`),
			want: []finding{{"user_properties.note.value", "VALUE_OUT_OF_BOUNDS"}}},
		{name: "user property name 24 chars", body: userProp(long(24), `{"value":1}`)},
		{name: "user property name 25 chars", body: userProp(long(25), `{"value":1}`),
			want: []finding{{"user_properties." + long(25), "NAME_INVALID"}}},
		{name: "user property name with a dash", body: userProp("caller-country", `{"value":1}`),
			want: []finding{{"user_properties.caller-country", "NAME_INVALID"}}},
		{name: "reserved user property", body: userProp("first_visit_time", `{"value":1}`),
			want: []finding{{"user_properties.first_visit_time", "NAME_RESERVED"}}},
		{name: "reserved user property prefix", body: userProp("ga_segment", `{"value":1}`),
			want: []finding{{"user_properties.ga_segment", "NAME_RESERVED"}}},
		{name: "unknown user property field", body: userProp("note", `{"value":1,"scope":"user"}`),
			want: []finding{{"user_properties.note.scope", "VALUE_INVALID"}}},
		{name: "user property too old", body: userProp("note", fmt.Sprintf(`{"value":1,"timestamp_micros":%d}`, micros(-73*time.Hour))),
			want: []finding{{"user_properties.note.timestamp_micros", "VALUE_OUT_OF_BOUNDS"}}},

		{name: "several findings in order", query: "?api_secret=x",
			body: fmt.Sprintf(`{"client_id":%q,"events":[{"name":"page_view","params":{"b":true,"a":"%s"}},{"name":"ok_event"},{"name":"bad-name"}]}`, testClientID, long(101)),
			want: []finding{
				{"measurement_id", "VALUE_REQUIRED"},
				{"events[0].name", "NAME_RESERVED"},
				{"events[0].params.a", "VALUE_OUT_OF_BOUNDS"},
				{"events[0].params.b", "VALUE_INVALID"},
				{"events[2].name", "NAME_INVALID"},
			}},
	}
	s := newServer(emulator.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query := tt.query
			if query == "" {
				query = validQuery
			}
			want := tt.want
			if want == nil {
				want = []finding{}
			}
			got := debugFindings(t, s.Handler(), query, tt.body)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings:\nwant %v\ngot  %v", want, got)
			}
		})
	}
	if n := len(s.GA4Events()) + len(s.GA4Dropped()); n != 0 {
		t.Errorf("the debug endpoint recorded %d events; want none", n)
	}
}
