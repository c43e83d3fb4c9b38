package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// EndpointSearch names GoogleAdsService.Search in [Server.Requests].
const EndpointSearch = "ads_search"

// The GAQL the emulator understands: conversion action fields from
// conversion_action, filtered by an AND of comparisons of its type or
// status with =, != or IN.
var (
	gaqlQuery      = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)\s*(?:WHERE\s+(.+?))?\s*(?:ORDER\s+BY\s+[\w.]+(?:\s+(?:ASC|DESC))?)?\s*$`)
	gaqlCondition  = regexp.MustCompile(`(?is)^\s*conversion_action\.(type|status)\s*(=|!=|IN|NOT IN)\s*(.+?)\s*$`)
	gaqlLiteral    = regexp.MustCompile(`'([A-Z_]+)'|"([A-Z_]+)"|\b([A-Z_]+)\b`)
	gaqlAnd        = regexp.MustCompile(`(?i)\s+AND\s+`)
	gaqlFieldNames = map[string]string{
		"conversion_action.resource_name": "resourceName",
		"conversion_action.id":            "id",
		"conversion_action.name":          "name",
		"conversion_action.type":          "type",
		"conversion_action.status":        "status",
	}
)

// searchRequest is a SearchGoogleAdsRequest as the REST API takes it.
type searchRequest struct {
	Query string `json:"query"`
}

func (s *Server) routeSearch(mux *http.ServeMux) {
	mux.HandleFunc("POST /{version}/customers/{customer}/googleAds:search", s.withFaults(s.adsSearch))
}

// adsSearch is GoogleAdsService.Search over the customer's conversion
// actions (AdsCustomer.ConversionActions, or the KnownActions as enabled
// click imports when the customer lists none). It needs the adwords scope,
// the developer token and access to the customer, as the uploads do; a
// query it does not understand is a queryError.
func (s *Server) adsSearch(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	if !adsVersionPattern.MatchString(version) {
		writeGoogleError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return
	}
	s.google.count(EndpointSearch)
	c := adsCallCtx{version: version, customer: r.PathValue("customer"), login: r.Header.Get("login-customer-id")}
	s.google.mu.Lock()
	c.requestID = fmt.Sprintf("emulated-search-%d", s.google.requests[EndpointSearch])
	s.google.mu.Unlock()
	if !s.authorize(w, r, scopeAdWords, "googleads.googleapis.com") || !s.checkAdsCustomer(w, r, c) {
		return
	}
	body, ok := readGoogleBody(w, r)
	if !ok {
		return
	}
	var req searchRequest
	if !s.decodeAds(w, c, body, &req) {
		return
	}
	fields, keep, err := parseGAQL(req.Query)
	if err != nil {
		s.adsRequestError(w, c, http.StatusBadRequest, "queryError", "BAD_QUERY", err.Error())
		return
	}
	var results []map[string]any
	for _, a := range s.google.config().actionsOf(c.customer) {
		if !keep(a) {
			continue
		}
		all := map[string]string{
			"resourceName": "customers/" + c.customer + "/conversionActions/" + a.ID,
			"id":           a.ID, "name": a.Name, "type": a.Type, "status": a.Status,
		}
		row := map[string]any{"resourceName": all["resourceName"]}
		for _, f := range fields {
			row[f] = all[f]
		}
		results = append(results, map[string]any{"conversionAction": row})
	}
	mask := make([]string, len(fields))
	for i, f := range fields {
		mask[i] = "conversionAction." + f
	}
	s.log.DebugContext(r.Context(), "emulator: ads search", "results", len(results))
	w.Header().Set("request-id", c.requestID)
	writeJSON(w, http.StatusOK, struct {
		Results   []map[string]any `json:"results,omitempty"`
		FieldMask string           `json:"fieldMask"`
		RequestID string           `json:"requestId"`
	}{results, strings.Join(mask, ","), c.requestID})
}

// actionsOf returns the conversion actions of customer.
func (c AdsConfig) actionsOf(customer string) []ConversionAction {
	if cu, ok := c.Customers[customer]; ok && len(cu.ConversionActions) > 0 {
		return cu.ConversionActions
	}
	out := make([]ConversionAction, 0, len(c.KnownActions))
	for _, id := range c.KnownActions {
		out = append(out, ConversionAction{ID: id, Name: "Conversion action " + id, Type: "UPLOAD_CLICKS", Status: "ENABLED"})
	}
	return out
}

// parseGAQL reads a query over conversion_action: the JSON names of the
// fields it selects, and the filter of its WHERE clause.
func parseGAQL(q string) (fields []string, keep func(ConversionAction) bool, err error) {
	m := gaqlQuery.FindStringSubmatch(q)
	if m == nil {
		return nil, nil, fmt.Errorf("error in query: want SELECT ... FROM ... [WHERE ...]")
	}
	if !strings.EqualFold(m[2], "conversion_action") {
		return nil, nil, fmt.Errorf("error in query: the emulator only serves FROM conversion_action, not %q", m[2])
	}
	for f := range strings.SplitSeq(m[1], ",") {
		f = strings.TrimSpace(f)
		name, ok := gaqlFieldNames[f]
		if !ok {
			return nil, nil, fmt.Errorf("error in SELECT clause: unrecognized field %q", f)
		}
		fields = append(fields, name)
	}
	var conds []func(ConversionAction) bool
	if m[3] != "" {
		for part := range strings.SplitSeq(gaqlAnd.ReplaceAllString(m[3], "\x00"), "\x00") {
			cm := gaqlCondition.FindStringSubmatch(part)
			if cm == nil {
				return nil, nil, fmt.Errorf("error in WHERE clause: cannot read %q", strings.TrimSpace(part))
			}
			var values []string
			for _, lm := range gaqlLiteral.FindAllStringSubmatch(cm[3], -1) {
				values = append(values, lm[1]+lm[2]+lm[3])
			}
			field, op := strings.ToLower(cm[1]), strings.ToUpper(cm[2])
			negate := op == "!=" || op == "NOT IN"
			conds = append(conds, func(a ConversionAction) bool {
				v := a.Type
				if field == "status" {
					v = a.Status
				}
				return slices.Contains(values, v) != negate
			})
		}
	}
	return fields, func(a ConversionAction) bool {
		for _, c := range conds {
			if !c(a) {
				return false
			}
		}
		return true
	}, nil
}
