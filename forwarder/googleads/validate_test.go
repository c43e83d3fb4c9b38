package googleads_test

import (
	"math"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/googleads"
)

func TestValidate(t *testing.T) {
	dm, api := forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI
	tests := []struct {
		name   string
		d      forwarder.Delivery
		change func(a *forwarder.AdsConversion)
		want   string
	}{
		{"click", click(dm, "Cj0KCQ"), nil, "ok"},
		{"click with hashed phone only", click(api, ""), nil, "ok"},
		{"call", call(api, "+61412345678"), nil, "ok"},
		{"call to data manager, caller hashed", call(dm, ""), func(a *forwarder.AdsConversion) { a.HashedPhone = testHash }, "ok"},
		{"zero value", click(dm, "G"), func(a *forwarder.AdsConversion) { v := 0.0; a.Value = &v }, "ok"},
		{"unknown backend", click(dm, "G"), func(a *forwarder.AdsConversion) { a.Backend = "adwords" }, "permanent/UNKNOWN_BACKEND"},
		{"unknown kind", click(dm, "G"), func(a *forwarder.AdsConversion) { a.Kind = "store" }, "permanent/UNKNOWN_KIND"},
		{"customer with dashes", click(dm, "G"), func(a *forwarder.AdsConversion) { a.CustomerID = "123-456-7890" }, "permanent/INVALID_CUSTOMER_ID"},
		{"short login customer", click(dm, "G"), func(a *forwarder.AdsConversion) { a.LoginCustomerID = "123" }, "permanent/INVALID_LOGIN_CUSTOMER_ID"},
		{"action resource name", click(dm, "G"), func(a *forwarder.AdsConversion) { a.ConversionAction = "customers/1/conversionActions/2" }, "permanent/INVALID_CONVERSION_ACTION"},
		{"no time", click(dm, "G"), func(a *forwarder.AdsConversion) { a.Time = time.Time{} }, "permanent/INVALID_CONVERSION_DATE_TIME"},
		{"gclid with a space", click(dm, "Cj0 KCQ"), nil, "permanent/UNPARSEABLE_GCLID"},
		{"uppercase hash", click(dm, "G"), func(a *forwarder.AdsConversion) {
			a.HashedPhone = "A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3"
		}, "permanent/INVALID_USER_IDENTIFIER"},
		{"phone in clear as hash", click(dm, "G"), func(a *forwarder.AdsConversion) { a.HashedPhone = "+61412345678" }, "permanent/INVALID_USER_IDENTIFIER"},
		{"negative value", click(dm, "G"), func(a *forwarder.AdsConversion) { v := -1.0; a.Value = &v }, "permanent/INVALID_CONVERSION_VALUE"},
		{"NaN value", click(dm, "G"), func(a *forwarder.AdsConversion) { v := math.NaN(); a.Value = &v }, "permanent/INVALID_CONVERSION_VALUE"},
		{"lowercase currency", click(dm, "G"), func(a *forwarder.AdsConversion) { a.Currency = "aud" }, "permanent/UNSUPPORTED_CURRENCY_CODE"},
		{"long transaction id", click(dm, "G"), func(a *forwarder.AdsConversion) { a.TransactionID = string(make([]byte, 65)) }, "permanent/TRANSACTION_ID_TOO_LONG"},
		{"consent spelled as Data Manager's", click(dm, "G"), func(a *forwarder.AdsConversion) { a.AdUserData = "CONSENT_GRANTED" }, "permanent/INVALID_CONSENT"},
		{"click without identifier", click(dm, ""), func(a *forwarder.AdsConversion) { a.HashedPhone = "" }, "permanent/MISSING_CLICK_IDENTIFIER"},
		{"call without start", call(api, "+61412345678"), func(a *forwarder.AdsConversion) { a.CallStart = time.Time{} }, "permanent/INVALID_CALL_START_DATE_TIME"},
		{"call converting before it started", call(api, "+61412345678"), func(a *forwarder.AdsConversion) { a.Time = a.CallStart.Add(-time.Second) }, "permanent/CONVERSION_PRECEDES_CALL"},
		{"national caller id", call(api, "0412345678"), nil, "permanent/UNPARSEABLE_CALLERS_PHONE_NUMBER"},
		{"caller id in clear needed by the Ads API", call(api, ""), func(a *forwarder.AdsConversion) { a.HashedPhone = testHash }, "permanent/UNPARSEABLE_CALLERS_PHONE_NUMBER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := *tt.d.Ads
			if tt.change != nil {
				tt.change(&a)
			}
			if got := outcome(googleads.Validate(&a)); got != tt.want {
				t.Errorf("Validate = %s, want %s", got, tt.want)
			}
		})
	}
	if got := outcome(googleads.Validate(nil)); got != "permanent/NOT_A_GOOGLE_ADS_DELIVERY" {
		t.Errorf("Validate(nil) = %s", got)
	}
}
