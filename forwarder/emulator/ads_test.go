package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/emulator"
)

const (
	clickPath = "/v26/customers/1234567890:uploadClickConversions"
	callPath  = "/v26/customers/1234567890:uploadCallConversions"
)

// clickRow is a valid click conversion for gclid at when.
func clickRow(gclid, when string) string {
	return fmt.Sprintf(`{"gclid":%q,"conversionAction":"customers/1234567890/conversionActions/987654321","conversionDateTime":%q,"conversionValue":50,"currencyCode":"AUD","orderId":"o-%s","userIdentifiers":[{"hashedPhoneNumber":%q}],"consent":{"adUserData":"GRANTED"}}`, gclid, when, gclid, testHash)
}

func clickBody(rows ...string) string {
	return `{"conversions":[` + strings.Join(rows, ",") + `],"partialFailure":true}`
}

// callRow is a valid call conversion from caller.
func callRow(caller, start, when string) string {
	return fmt.Sprintf(`{"callerId":%q,"callStartDateTime":%q,"conversionAction":"customers/1234567890/conversionActions/987654321","conversionDateTime":%q,"consent":{"adUserData":"DENIED"}}`, caller, start, when)
}

func callBody(rows ...string) string {
	return `{"conversions":[` + strings.Join(rows, ",") + `],"partialFailure":true}`
}

// uploadAnswer is an upload answer as tests read it.
type uploadAnswer struct {
	Results             []map[string]any `json:"results"`
	PartialFailureError *struct {
		Details []struct {
			Errors []struct {
				ErrorCode map[string]string `json:"errorCode"`
				Location  struct {
					FieldPathElements []struct {
						FieldName string `json:"fieldName"`
						Index     *int   `json:"index"`
					} `json:"fieldPathElements"`
				} `json:"location"`
			} `json:"errors"`
		} `json:"details"`
	} `json:"partialFailureError"`
}

// rowCodes returns "i:code" for each row error, and the indexes of empty
// results.
func rowCodes(t *testing.T, rec *httptest.ResponseRecorder) (codes []string, empty []int) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("want 200, got %d: %s", rec.Code, rec.Body)
	}
	var a uploadAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	if a.PartialFailureError != nil {
		for _, d := range a.PartialFailureError.Details {
			for _, e := range d.Errors {
				for _, v := range e.ErrorCode {
					codes = append(codes, fmt.Sprintf("%d:%s", *e.Location.FieldPathElements[0].Index, v))
				}
			}
		}
	}
	for i, r := range a.Results {
		if len(r) == 0 {
			empty = append(empty, i)
		}
	}
	return codes, empty
}

func TestUploadClickRows(t *testing.T) {
	cfg := emulator.AdsConfig{
		KnownActions:    []string{"987654321"},
		ExpiredGCLIDs:   []string{"OLD"},
		TooRecentGCLIDs: []string{"NEW"},
	}
	valid := clickRow("G1", "2026-11-03 08:00:00+00:00")
	tests := []struct {
		name string
		bad  string
		want string
	}{
		{"expired click", clickRow("OLD", "2026-11-03 08:00:00+00:00"), "1:EXPIRED_EVENT"},
		{"too recent click", clickRow("NEW", "2026-11-03 08:00:00+00:00"), "1:TOO_RECENT_EVENT"},
		{"no offset", clickRow("G2", "2026-11-03 08:00:00"), "1:INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"},
		{"Z instead of offset", clickRow("G2", "2026-11-03 08:00:00Z"), "1:INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"},
		{"RFC 3339", clickRow("G2", "2026-11-03T08:00:00+00:00"), "1:INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"},
		{"future", clickRow("G2", "2026-11-04 08:00:00+00:00"), "1:LATER_THAN_MAXIMUM_DATE"},
		{"unknown action", strings.Replace(clickRow("G2", "2026-11-03 08:00:00+00:00"), "987654321", "555", 1), "1:NO_CONVERSION_ACTION_FOUND"},
		{"action of another customer", strings.Replace(clickRow("G2", "2026-11-03 08:00:00+00:00"), "customers/1234567890", "customers/9999999999", 1), "1:NO_CONVERSION_ACTION_FOUND"},
		{"unparseable gclid", clickRow("G 2", "2026-11-03 08:00:00+00:00"), "1:UNPARSEABLE_GCLID"},
		{"uppercase hash", strings.Replace(clickRow("G2", "2026-11-03 08:00:00+00:00"), testHash, strings.ToUpper(testHash), 1), "1:INVALID_USER_IDENTIFIER"},
		{"duplicate in request", valid, "1:DUPLICATE_CLICK_CONVERSION_IN_REQUEST"},
		{"same order id in request", strings.Replace(clickRow("G2", "2026-11-03 08:00:00+00:00"), "o-G2", "o-G1", 1), "1:DUPLICATE_ORDER_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoogleServer(&clock{t: testNow}, cfg)
			h := s.Handler()
			rec := callAPI(h, clickPath, accessToken(t, h, "rt"), clickBody(valid, tt.bad, clickRow("G3", "2026-11-03 08:30:00+10:00")))
			codes, empty := rowCodes(t, rec)
			if !slices.Equal(codes, []string{tt.want}) || !slices.Equal(empty, []int{1}) {
				t.Errorf("row errors %v, empty results %v; want [%s] and [1]", codes, empty, tt.want)
			}
			var got []string
			for _, c := range s.AdsClickConversions() {
				got = append(got, c.GCLID)
			}
			if !slices.Equal(got, []string{"G1", "G3"}) {
				t.Errorf("recorded %v, want the valid rows [G1 G3]", got)
			}
		})
	}
}

func TestUploadClickAlreadyExists(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
	h := s.Handler()
	tok := accessToken(t, h, "rt")
	row := clickRow("G1", "2026-11-03 08:00:00+00:00")
	if codes, _ := rowCodes(t, callAPI(h, clickPath, tok, clickBody(row), "login-customer-id", "1112223333")); len(codes) != 0 {
		t.Fatalf("first upload: row errors %v", codes)
	}
	codes, empty := rowCodes(t, callAPI(h, clickPath, tok, clickBody(row)))
	if !slices.Equal(codes, []string{"0:CLICK_CONVERSION_ALREADY_EXISTS"}) || !slices.Equal(empty, []int{0}) {
		t.Errorf("second upload: %v %v, want [0:CLICK_CONVERSION_ALREADY_EXISTS] [0]", codes, empty)
	}
	got := s.AdsClickConversions()
	if len(got) != 1 || got[0].LoginCustomerID != "1112223333" || got[0].ConversionAction != "987654321" || got[0].OrderID != "o-G1" {
		t.Errorf("recorded %+v, want one conversion with login customer, action id and order id", got)
	}
}

func TestUploadClickRequestErrors(t *testing.T) {
	many := make([]string, 2001)
	for i := range many {
		many[i] = clickRow(fmt.Sprint("G", i), "2026-11-03 08:00:00+00:00")
	}
	tests := []struct {
		name    string
		path    string
		body    string
		headers []string
		code    int
		want    string
	}{
		{"partial failure off", clickPath, strings.Replace(clickBody(clickRow("G1", "2026-11-03 08:00:00+00:00")), `"partialFailure":true`, `"partialFailure":false`, 1), nil, 400, "partialFailureError.PARTIAL_FAILURE_MODE_REQUIRED"},
		{"2001 rows", clickPath, clickBody(many...), nil, 400, "conversionUploadError.TOO_MANY_CONVERSIONS_IN_REQUEST"},
		{"unknown field", clickPath, strings.Replace(clickBody(clickRow("G1", "2026-11-03 08:00:00+00:00")), `"gclid"`, `"debugEnabled":true,"gclid"`, 1), nil, 400, "INVALID_ARGUMENT"},
		{"login customer with dashes", clickPath, clickBody(clickRow("G1", "2026-11-03 08:00:00+00:00")), []string{"login-customer-id", "111-222-3333"}, 400, "headerError.INVALID_LOGIN_CUSTOMER_ID"},
		{"customer with dashes", "/v26/customers/123-456-7890:uploadClickConversions", clickBody(), nil, 400, "requestError.INVALID_CUSTOMER_ID"},
		{"unknown method", "/v26/customers/1234567890:uploadStuff", clickBody(), nil, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
			h := s.Handler()
			rec := callAPI(h, tt.path, accessToken(t, h, "rt"), tt.body, tt.headers...)
			if rec.Code != tt.code {
				t.Fatalf("want %d, got %d: %s", tt.code, rec.Code, rec.Body)
			}
			if got := reasons(t, rec); !slices.Contains(got, tt.want) {
				t.Errorf("reasons = %v, want %s", got, tt.want)
			}
			if n := len(s.AdsClickConversions()); n != 0 {
				t.Errorf("a refused request recorded %d conversions", n)
			}
		})
	}
}

func TestUploadNotAllowlisted(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{NotAllowlistedCustomers: []string{"1234567890"}})
	h := s.Handler()
	codes, _ := rowCodes(t, callAPI(h, clickPath, accessToken(t, h, "rt"), clickBody(clickRow("G1", "2026-11-03 08:00:00+00:00"))))
	if !slices.Equal(codes, []string{"0:CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"}) {
		t.Errorf("row errors %v, want CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE", codes)
	}
}

func TestUploadCallRows(t *testing.T) {
	valid := callRow("+61412345678", "2026-11-03 07:55:00+00:00", "2026-11-03 08:00:00+00:00")
	tests := []struct {
		name string
		bad  string
		want string
	}{
		{"national number", callRow("0412345678", "2026-11-03 07:55:00+00:00", "2026-11-03 08:00:00+00:00"), "1:UNPARSEABLE_CALLERS_PHONE_NUMBER"},
		{"conversion before the call", callRow("+61400000001", "2026-11-03 08:05:00+00:00", "2026-11-03 08:00:00+00:00"), "1:CONVERSION_PRECEDES_CALL"},
		{"too recent", callRow("+61499999999", "2026-11-03 07:55:00+00:00", "2026-11-03 08:00:00+00:00"), "1:TOO_RECENT_CALL"},
		{"start without offset", callRow("+61400000001", "2026-11-03 07:55:00", "2026-11-03 08:00:00+00:00"), "1:INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"},
		{"duplicate", valid, "1:DUPLICATE_CALL_CONVERSION_IN_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{TooRecentCallers: []string{"+61499999999"}})
			h := s.Handler()
			codes, empty := rowCodes(t, callAPI(h, callPath, accessToken(t, h, "rt"), callBody(valid, tt.bad)))
			if !slices.Equal(codes, []string{tt.want}) || !slices.Equal(empty, []int{1}) {
				t.Errorf("row errors %v, empty results %v; want [%s] and [1]", codes, empty, tt.want)
			}
			if got := s.AdsCallConversions(); len(got) != 1 || got[0].CallerID != "+61412345678" || got[0].AdUserData != "DENIED" {
				t.Errorf("recorded %+v, want the valid call", got)
			}
		})
	}
	t.Run("already exists", func(t *testing.T) {
		s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
		h := s.Handler()
		tok := accessToken(t, h, "rt")
		rowCodes(t, callAPI(h, callPath, tok, callBody(valid)))
		if codes, _ := rowCodes(t, callAPI(h, callPath, tok, callBody(valid))); !slices.Equal(codes, []string{"0:CALL_CONVERSION_ALREADY_EXISTS"}) {
			t.Errorf("row errors %v, want [0:CALL_CONVERSION_ALREADY_EXISTS]", codes)
		}
	})
}

func TestAdsControl(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
	h := s.Handler()
	rec := serve(h, http.MethodPut, "/emulator/ads/config", `{"known_actions":["1"],"token_lifetime_seconds":5}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT config: want 200, got %d: %s", rec.Code, rec.Body)
	}
	if c := s.AdsConfig(); !slices.Equal(c.KnownActions, []string{"1"}) || c.TokenLifetimeSeconds != 5 {
		t.Errorf("config after PUT = %+v", c)
	}
	if rec := serve(h, http.MethodPut, "/emulator/ads/config", `{"token_lifetime_seconds":-1}`); rec.Code != http.StatusBadRequest {
		t.Errorf("negative lifetime: want 400, got %d", rec.Code)
	}
	tok := accessToken(t, h, "rt")
	s.SetAdsConfig(emulator.AdsConfig{})
	rowCodes(t, callAPI(h, clickPath, tok, clickBody(clickRow("G1", "2026-11-03 08:00:00+00:00"))))

	rec = serve(h, http.MethodGet, "/emulator/ads/recording", "")
	var got emulator.AdsRecording
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode recording %s: %v", rec.Body, err)
	}
	if len(got.ClickConversions) != 1 || got.Requests[emulator.EndpointUploadClicks] != 1 || got.TokensIssued != 1 || got.DataManagerEvents == nil {
		t.Errorf("recording = %s", rec.Body)
	}

	s.Reset()
	if r := s.Recording(); len(r.ClickConversions) != 0 || r.TokensIssued != 0 || len(s.AdsConfig().KnownActions) != 0 {
		t.Errorf("after Reset: %+v, config %+v", r, s.AdsConfig())
	}
	if rec := callAPI(h, clickPath, tok, clickBody()); rec.Code != http.StatusUnauthorized {
		t.Errorf("a token issued before Reset: want 401, got %d", rec.Code)
	}
}
