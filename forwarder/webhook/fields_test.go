package webhook

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// TestDecodeEveryDocumentedParameter sends every parameter of the platform's
// reference and checks where each one lands: none may fall into Extra.
func TestDecodeEveryDocumentedParameter(t *testing.T) {
	t.Parallel()
	params := url.Values{
		"Action":                    {"Webhook"},
		"Event":                     {"Call.Complete"},
		"Account.Sid":               {"AC1"},
		"Property.Sid":              {"PR1"},
		"Property.Name":             {"www.example.com.au"},
		"Property.Type":             {"Site"},
		"Call.Sid":                  {"CA1"},
		"Call.StartDate":            {"2026-11-25 23:41:07"},
		"Call.From":                 {"+61412345678"},
		"Call.From.Country":         {"Australia"},
		"Call.From.Region":          {"NSW"},
		"Call.From.City":            {"Sydney"},
		"Call.To":                   {"+61291234567"},
		"Call.To.Type":              {"Dynamic"},
		"Call.To.Name":              {"Google Ads – Brand"},
		"Call.Duration":             {"187"},
		"Call.Disposition":          {"ANSWERED"},
		"Call.Recording.Uri":        {"https://rec.example.net/CA1.mp3"},
		"Call.Endpoint":             {"+61298765432"},
		"Call.Survey.Type":          {"New booking"},
		"Call.Survey.Value":         {"350"},
		"Call.Survey.Custom1":       {"c1"},
		"Call.Survey.Custom2":       {"c2"},
		"Call.Survey.Custom3":       {"c3"},
		"Call.Survey.UniqueCode":    {"4821"},
		"Call.Prompts.Postcode":     {"2000,3000"},
		"Call.Prompts.Keys":         {"1,2000"},
		"Attribution.Source":        {"bing"},
		"Attribution.Medium":        {"organic"},
		"Attribution.Campaign":      {"camp"},
		"Attribution.Content":       {"content"},
		"Session.Traffic.Type":      {"Campaign"},
		"Session.Keywords":          {"plumber"},
		"Session.ConversionUri":     {"https://www.example.com.au/contact"},
		"Session.LandingUri":        {"https://www.example.com.au/"},
		"Google.Analytics.ClientId": {"GA1.2.1234567890.1700000000"},
		"Google.AdWords.ClickId":    {"Cj0KCQiA"},
	}
	if len(params) != len(fields) {
		t.Errorf("the reference documents %d parameters, the decoder knows %d", len(params), len(fields))
	}
	duration, value := 187, 350
	want := &forwarder.Call{
		Action:       "Webhook",
		Event:        forwarder.EventComplete,
		AccountSid:   "AC1",
		PropertySid:  "PR1",
		PropertyName: "www.example.com.au",
		PropertyType: "Site",
		Sid:          "CA1",
		StartDate:    time.Date(2026, 11, 25, 23, 41, 7, 0, time.UTC),
		From:         "+61412345678",
		FromCountry:  "Australia",
		FromRegion:   "NSW",
		FromCity:     "Sydney",
		To:           "+61291234567",
		ToType:       "Dynamic",
		ToName:       "Google Ads – Brand",
		Duration:     &duration,
		Disposition:  forwarder.DispositionAnswered,
		RecordingURI: "https://rec.example.net/CA1.mp3",
		Endpoint:     "+61298765432",
		Survey: forwarder.Survey{
			Type: "New booking", Value: &value, Custom1: "c1", Custom2: "c2", Custom3: "c3", UniqueCode: "4821",
		},
		Prompts:     forwarder.Prompts{Postcodes: []string{"2000", "3000"}, Keys: []string{"1", "2000"}},
		Attribution: forwarder.Attribution{Source: "bing", Medium: "organic", Campaign: "camp", Content: "content"},
		Session: forwarder.Session{
			TrafficType:   "Campaign",
			Keywords:      "plumber",
			ConversionURI: "https://www.example.com.au/contact",
			LandingURI:    "https://www.example.com.au/",
		},
		GAClientID: "1234567890.1700000000",
		GCLID:      "Cj0KCQiA",
	}
	got, err := Decode(params)
	if err != nil {
		t.Fatalf("got error %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestDecodeEmptyMeansAbsent sends every optional parameter empty: the
// Call must be the same as without them.
func TestDecodeEmptyMeansAbsent(t *testing.T) {
	t.Parallel()
	params := baseForm()
	for _, f := range fields {
		if _, set := params[f.name]; !set {
			params.Set(f.name, "  ")
		}
	}
	got, err := Decode(params)
	if err != nil {
		t.Fatalf("got error %v", err)
	}
	want, err := Decode(baseForm())
	if err != nil {
		t.Fatalf("got error %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
