package emulator_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/emulator"
)

// accounts is an account reached through manager 1112223333 with one
// import action (987654321), one website action and one removed action.
var accounts = emulator.AdsConfig{
	Customers: map[string]emulator.AdsCustomer{
		"1234567890": {Managers: []string{"1112223333"}, ConversionActions: []emulator.ConversionAction{
			{ID: "987654321", Name: "Qualified call", Type: "UPLOAD_CLICKS", Status: "ENABLED"},
			{ID: "555", Name: "Website lead", Type: "WEBPAGE", Status: "ENABLED"},
			{ID: "666", Name: "Old import", Type: "UPLOAD_CLICKS", Status: "REMOVED"},
		}},
		"4445556666": {Direct: true, TermsNotAccepted: true},
	},
	DeveloperTokens: []string{"dev-token-1"},
}

// TestAccountChecks checks that both Ads endpoints refuse, with and
// without validateOnly, a customer the user does not reach, a wrong login
// customer, a conversion action that cannot take imports and a missing
// developer token; and that validateOnly records nothing.
func TestAccountChecks(t *testing.T) {
	dmBodyFor := func(customer, login, action string, validateOnly bool) string {
		dest := `{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"` + customer + `"},`
		if login != "" {
			dest += `"loginAccount":{"accountType":"GOOGLE_ADS","accountId":"` + login + `"},`
		}
		dest += `"productDestinationId":"` + action + `"}`
		vo := ""
		if validateOnly {
			vo = `,"validateOnly":true`
		}
		return `{"destinations":[` + dest + `],"encoding":"HEX","events":[` + dmEvent("tx-"+customer+action, "") + `]` + vo + `}`
	}
	adsBodyFor := func(customer, action string, validateOnly bool) string {
		row := strings.ReplaceAll(clickRow("g1", "2026-11-03 08:00:00+00:00"), "customers/1234567890/conversionActions/987654321", "customers/"+customer+"/conversionActions/"+action)
		return `{"conversions":[` + row + `],"partialFailure":true,"validateOnly":` + map[bool]string{true: "true", false: "false"}[validateOnly] + `}`
	}
	tests := []struct {
		name, customer, login, action string
		devToken                      string
		wantDM, wantAds               string // "" when accepted
	}{
		{"right setup", "1234567890", "1112223333", "987654321", "dev-token-1", "", ""},
		{"unknown customer", "9999999999", "1112223333", "987654321", "dev-token-1", "PERMISSION_DENIED", "USER_PERMISSION_DENIED"},
		{"no login customer", "1234567890", "", "987654321", "dev-token-1", "PERMISSION_DENIED", "USER_PERMISSION_DENIED"},
		{"wrong login customer", "1234567890", "7778889999", "987654321", "dev-token-1", "PERMISSION_DENIED", "USER_PERMISSION_DENIED"},
		{"unknown action", "1234567890", "1112223333", "111", "dev-token-1", "INVALID_CONVERSION_ACTION_ID", "NO_CONVERSION_ACTION_FOUND"},
		{"removed action", "1234567890", "1112223333", "666", "dev-token-1", "INVALID_CONVERSION_ACTION_ID", "NO_CONVERSION_ACTION_FOUND"},
		{"website action", "1234567890", "1112223333", "555", "dev-token-1", "INVALID_CONVERSION_ACTION_TYPE", "INVALID_CONVERSION_ACTION_TYPE"},
		{"terms not accepted", "4445556666", "", "987654321", "dev-token-1", "TERMS_AND_CONDITIONS_NOT_SIGNED", ""},
		{"no developer token", "1234567890", "1112223333", "987654321", "", "", "DEVELOPER_TOKEN_PARAMETER_MISSING"},
		{"wrong developer token", "1234567890", "1112223333", "987654321", "nope", "", "DEVELOPER_TOKEN_INVALID"},
	}
	for _, tc := range tests {
		for _, validateOnly := range []bool{true, false} {
			t.Run(tc.name+map[bool]string{true: "/validateOnly", false: ""}[validateOnly], func(t *testing.T) {
				s := newGoogleServer(&clock{t: testNow}, accounts)
				h := s.Handler()
				tok := accessToken(t, h, "rt")
				rec := callAPI(h, ingestPath, tok, dmBodyFor(tc.customer, tc.login, tc.action, validateOnly))
				checkAnswer(t, "data manager", rec.Code, rec.Body.String(), tc.wantDM)
				headers := []string{"login-customer-id", tc.login}
				if tc.devToken != "" {
					headers = append(headers, "developer-token", tc.devToken)
				}
				rec = callAPI(h, "/v26/customers/"+tc.customer+":uploadClickConversions", tok, adsBodyFor(tc.customer, tc.action, validateOnly), headers...)
				checkAnswer(t, "google ads api", rec.Code, rec.Body.String(), tc.wantAds)
				rec1 := s.Recording()
				recorded := len(rec1.DataManagerEvents) + len(rec1.ClickConversions)
				want := 0
				if !validateOnly {
					want = map[bool]int{true: 1, false: 0}[tc.wantDM == ""] + map[bool]int{true: 1, false: 0}[tc.wantAds == ""]
				}
				if recorded != want {
					t.Errorf("%d conversions recorded, want %d", recorded, want)
				}
			})
		}
	}
}

// checkAnswer checks that an Ads answer is a success (want "") or names
// want, as a Google error or a row error.
func checkAnswer(t *testing.T, api string, code int, body, want string) {
	t.Helper()
	failed := code != http.StatusOK || strings.Contains(body, "partialFailureError")
	switch {
	case want == "" && failed:
		t.Errorf("%s: want success, got %d %s", api, code, body)
	case want != "" && (!failed || !strings.Contains(body, `"`+want+`"`)):
		t.Errorf("%s: want %s, got %d %s", api, want, code, body)
	}
}

// TestSearchConversionActions checks GoogleAdsService.Search over
// conversion actions: fields, filters, access and refusals.
func TestSearchConversionActions(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, accounts)
	h := s.Handler()
	tok := accessToken(t, h, "rt")
	search := func(customer, login, dev, query string) (int, string) {
		body, _ := json.Marshal(map[string]string{"query": query})
		rec := callAPI(h, "/v26/customers/"+customer+"/googleAds:search", tok, string(body), "login-customer-id", login, "developer-token", dev)
		return rec.Code, rec.Body.String()
	}
	const all = "SELECT conversion_action.id, conversion_action.name, conversion_action.type, conversion_action.status FROM conversion_action"
	code, body := search("1234567890", "1112223333", "dev-token-1", all+" WHERE conversion_action.status != 'REMOVED' AND conversion_action.type IN ('UPLOAD_CLICKS', 'UPLOAD_CALLS')")
	if code != http.StatusOK {
		t.Fatalf("search: want 200, got %d %s", code, body)
	}
	var reply struct {
		Results []struct {
			ConversionAction map[string]string `json:"conversionAction"`
		} `json:"results"`
		FieldMask string `json:"fieldMask"`
	}
	if err := json.Unmarshal([]byte(body), &reply); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range reply.Results {
		ids = append(ids, r.ConversionAction["id"]+"/"+r.ConversionAction["name"]+"/"+r.ConversionAction["type"]+"/"+r.ConversionAction["status"])
	}
	if want := []string{"987654321/Qualified call/UPLOAD_CLICKS/ENABLED"}; !slices.Equal(ids, want) {
		t.Errorf("actions %v, want %v", ids, want)
	}
	if reply.FieldMask != "conversionAction.id,conversionAction.name,conversionAction.type,conversionAction.status" {
		t.Errorf("fieldMask %q", reply.FieldMask)
	}
	if _, body := search("1234567890", "1112223333", "dev-token-1", all); strings.Count(body, `"conversionAction"`) != 3 {
		t.Errorf("without WHERE: want the 3 actions, got %s", body)
	}
	refusals := []struct{ name, customer, login, dev, query, want string }{
		{"bad field", "1234567890", "1112223333", "dev-token-1", "SELECT conversion_action.secret FROM conversion_action", "BAD_QUERY"},
		{"other resource", "1234567890", "1112223333", "dev-token-1", "SELECT campaign.id FROM campaign", "BAD_QUERY"},
		{"wrong login", "1234567890", "7778889999", "dev-token-1", all, "USER_PERMISSION_DENIED"},
		{"no developer token", "1234567890", "1112223333", "", all, "DEVELOPER_TOKEN_PARAMETER_MISSING"},
	}
	for _, r := range refusals {
		if code, body := search(r.customer, r.login, r.dev, r.query); code == http.StatusOK || !strings.Contains(body, r.want) {
			t.Errorf("%s: want a refusal with %s, got %d %s", r.name, r.want, code, body)
		}
	}
}
