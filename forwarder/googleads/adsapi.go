package googleads

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/callforward/callforward/forwarder"
	"google.golang.org/api/googleapi"
)

// maxReply bounds what is read of an upload answer: 2,000 results with
// their errors fit easily.
const maxReply = 16 << 20

// The JSON of the upload requests (proto3 JSON names).
type (
	uploadRequest struct {
		Conversions    any  `json:"conversions"`
		PartialFailure bool `json:"partialFailure"`
		ValidateOnly   bool `json:"validateOnly,omitempty"`
	}
	clickConversion struct {
		Gclid              string           `json:"gclid,omitempty"`
		ConversionAction   string           `json:"conversionAction"`
		ConversionDateTime string           `json:"conversionDateTime"`
		ConversionValue    *float64         `json:"conversionValue,omitempty"`
		CurrencyCode       string           `json:"currencyCode,omitempty"`
		OrderID            string           `json:"orderId,omitempty"`
		UserIdentifiers    []userIdentifier `json:"userIdentifiers,omitempty"`
		Consent            *adsConsent      `json:"consent,omitempty"`
	}
	callConversion struct {
		CallerID           string      `json:"callerId"`
		CallStartDateTime  string      `json:"callStartDateTime"`
		ConversionAction   string      `json:"conversionAction"`
		ConversionDateTime string      `json:"conversionDateTime"`
		ConversionValue    *float64    `json:"conversionValue,omitempty"`
		CurrencyCode       string      `json:"currencyCode,omitempty"`
		Consent            *adsConsent `json:"consent,omitempty"`
	}
	userIdentifier struct {
		HashedPhoneNumber string `json:"hashedPhoneNumber"`
	}
	adsConsent struct {
		AdUserData string `json:"adUserData"`
	}
)

// BuildUploadRequest returns the JSON body of the Google Ads API upload
// for convs, which share a BatchKey, and the method to call
// (uploadClickConversions or uploadCallConversions).
func BuildUploadRequest(convs []*forwarder.AdsConversion, validateOnly bool) (method string, body []byte, err error) {
	req := uploadRequest{PartialFailure: true, ValidateOnly: validateOnly}
	if convs[0].Kind == forwarder.AdsCall {
		method = "uploadCallConversions"
		rows := make([]callConversion, len(convs))
		for i, a := range convs {
			rows[i] = callConversion{
				CallerID:           a.CallerID,
				CallStartDateTime:  AdsDateTime(a.CallStart),
				ConversionAction:   actionResource(a),
				ConversionDateTime: AdsDateTime(a.Time),
				ConversionValue:    a.Value,
				Consent:            consent(a),
			}
			if a.Value != nil {
				rows[i].CurrencyCode = a.Currency
			}
		}
		req.Conversions = rows
	} else {
		method = "uploadClickConversions"
		rows := make([]clickConversion, len(convs))
		for i, a := range convs {
			rows[i] = clickConversion{
				Gclid:              a.GCLID,
				ConversionAction:   actionResource(a),
				ConversionDateTime: AdsDateTime(a.Time),
				ConversionValue:    a.Value,
				OrderID:            a.TransactionID,
				Consent:            consent(a),
			}
			if a.Value != nil {
				rows[i].CurrencyCode = a.Currency
			}
			if a.HashedPhone != "" {
				rows[i].UserIdentifiers = []userIdentifier{{HashedPhoneNumber: a.HashedPhone}}
			}
		}
		req.Conversions = rows
	}
	body, err = json.Marshal(req)
	if err != nil {
		return "", nil, fmt.Errorf("googleads: encode %s: %w", method, err)
	}
	return method, body, nil
}

func actionResource(a *forwarder.AdsConversion) string {
	return "customers/" + a.CustomerID + "/conversionActions/" + a.ConversionAction
}

func consent(a *forwarder.AdsConversion) *adsConsent {
	if a.AdUserData == "" {
		return nil
	}
	return &adsConsent{AdUserData: a.AdUserData}
}

// upload sends convs (one batch key) to the Google Ads API and returns
// one outcome per conversion. Twins (see distinct) are sent once.
func (s *Sender) upload(ctx context.Context, convs []*forwarder.AdsConversion) []error {
	if uniq, of := distinct(convs); len(uniq) < len(convs) {
		res := s.upload(ctx, uniq)
		out := make([]error, len(convs))
		for i, j := range of {
			out[i] = res[j]
		}
		return out
	}
	method, body, err := BuildUploadRequest(convs, s.cfg.ValidateOnly)
	op := "googleads: google ads api: " + method
	if err != nil {
		return fill(len(convs), forwarder.Permanent("encode", err))
	}
	a := convs[0]
	endpoint := s.cfg.GoogleAdsEndpoint + "/" + url.PathEscape(s.cfg.APIVersion) + "/customers/" + a.CustomerID + ":" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fill(len(convs), forwarder.Permanent("bad_endpoint", fmt.Errorf("%s: build request: %w", op, err)))
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.DeveloperToken != "" {
		req.Header.Set("developer-token", s.cfg.DeveloperToken)
	}
	if a.LoginCustomerID != "" {
		req.Header.Set("login-customer-id", a.LoginCustomerID)
	}
	resp, err := s.adsClient.Do(req)
	if err != nil {
		return fill(len(convs), classifyTransport(ctx, op, err))
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReply))
		_ = resp.Body.Close()
	}()
	red := newRedactor(convs)
	if err := googleapi.CheckResponse(resp); err != nil {
		gerr, _ := err.(*googleapi.Error)
		f := readFailure(gerr)
		if f.status == http.StatusUnauthorized {
			invalidate(s.cfg.AdsTokenSource)
		}
		return fill(len(convs), s.classifyFailure(op, f, red, s.now()))
	}
	var reply uploadReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxReply)).Decode(&reply); err != nil {
		// Google has the request; an unreadable answer does not say which
		// rows failed. Sending again is safe: duplicates are reported as
		// such and count as delivered.
		return fill(len(convs), forwarder.Transient("bad_reply", fmt.Errorf("%s: decode the answer: %w", op, err)))
	}
	return reply.outcomes(op, len(convs), red, s.cfg.ValidateOnly)
}
