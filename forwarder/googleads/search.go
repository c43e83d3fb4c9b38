package googleads

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

// importActionsQuery selects the conversion actions that take imported
// conversions (clicks and calls), removed ones left out.
const importActionsQuery = "SELECT conversion_action.id, conversion_action.name, conversion_action.type, conversion_action.status " +
	"FROM conversion_action WHERE conversion_action.type IN ('UPLOAD_CLICKS', 'UPLOAD_CALLS') AND conversion_action.status != 'REMOVED'"

// ConversionAction is a Google Ads conversion action.
type ConversionAction struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Status string `json:"status"`
}

// SearchConfig is how ListImportActions reaches the Google Ads API.
type SearchConfig struct {
	// Endpoint and APIVersion as in Config ("" for the defaults).
	Endpoint, APIVersion string
	// TokenSource gives tokens with the adwords scope.
	TokenSource oauth2.TokenSource
	// DeveloperToken is sent as the developer-token header.
	DeveloperToken string
	// HTTPClient sends the requests (a default client when nil).
	HTTPClient *http.Client
}

// ListImportActions returns the conversion actions of customer (10
// digits) that take imported conversions, through GoogleAdsService.Search;
// login is the manager account the access goes through ("" for none). A
// refusal is an error carrying Google's code.
func ListImportActions(ctx context.Context, cfg SearchConfig, customer, login string) ([]ConversionAction, error) {
	endpoint := strings.TrimRight(cfg.Endpoint, "/")
	if endpoint == "" {
		endpoint = strings.TrimRight(DefaultGoogleAdsEndpoint, "/")
	}
	version := cfg.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	client := authClient(cfg.HTTPClient, cfg.TokenSource)
	target := endpoint + "/" + url.PathEscape(version) + "/customers/" + url.PathEscape(customer) + "/googleAds:search"
	const op = "googleads: search conversion actions"
	var out []ConversionAction
	pageToken := ""
	for {
		q := map[string]string{"query": importActionsQuery}
		if pageToken != "" {
			q["pageToken"] = pageToken
		}
		body, _ := json.Marshal(q)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("Content-Type", "application/json")
		if cfg.DeveloperToken != "" {
			req.Header.Set("developer-token", cfg.DeveloperToken)
		}
		if login != "" {
			req.Header.Set("login-customer-id", login)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, classifyTransport(ctx, op, err)
		}
		page, err := readSearchPage(resp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		for _, r := range page.Results {
			out = append(out, r.ConversionAction)
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		pageToken = page.NextPageToken
	}
}

// searchPage is one page of a SearchGoogleAdsResponse.
type searchPage struct {
	Results []struct {
		ConversionAction ConversionAction `json:"conversionAction"`
	} `json:"results"`
	NextPageToken string `json:"nextPageToken"`
}

// readSearchPage reads and closes a search answer.
func readSearchPage(resp *http.Response) (searchPage, error) {
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReply))
		_ = resp.Body.Close()
	}()
	if err := googleapi.CheckResponse(resp); err != nil {
		gerr, _ := err.(*googleapi.Error)
		f := readFailure(gerr)
		return searchPage{}, fmt.Errorf("HTTP %d %s: %s", f.status, f.code, f.message)
	}
	var page searchPage
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxReply)).Decode(&page); err != nil {
		return searchPage{}, fmt.Errorf("decode the answer: %w", err)
	}
	return page, nil
}
