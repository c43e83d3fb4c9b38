package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// dmDomain is the error domain of the Data Manager API.
const dmDomain = "datamanager.googleapis.com"

// DataManagerEvent is one event events:ingest accepted for one
// destination (an event sent to two destinations is recorded twice).
type DataManagerEvent struct {
	RequestID        string `json:"request_id"`
	CustomerID       string `json:"customer_id"`
	LoginCustomerID  string `json:"login_customer_id,omitempty"`
	ConversionAction string `json:"conversion_action"`
	GCLID            string `json:"gclid,omitempty"`
	// HashedPhones and HashedEmails are the user identifiers as sent.
	HashedPhones []string `json:"hashed_phones,omitempty"`
	HashedEmails []string `json:"hashed_emails,omitempty"`
	// EventTimestamp and CallStart are as sent (RFC 3339).
	EventTimestamp string    `json:"event_timestamp"`
	CallStart      string    `json:"call_start,omitempty"`
	Value          *float64  `json:"value,omitempty"`
	Currency       string    `json:"currency,omitempty"`
	TransactionID  string    `json:"transaction_id,omitempty"`
	EventSource    string    `json:"event_source,omitempty"`
	AdUserData     string    `json:"ad_user_data,omitempty"`
	ReceivedAt     time.Time `json:"received_at"`
}

// DataManagerEvents returns, in arrival order, the events events:ingest
// recorded (duplicates once).
func (s *Server) DataManagerEvents() []DataManagerEvent {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	return slices.Clone(s.google.dmEvents)
}

// DataManagerDuplicates returns how many events events:ingest accepted
// but did not record again: same transaction id and destination as an
// event already recorded (Google dedups them after ingestion).
func (s *Server) DataManagerDuplicates() int {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	return s.google.dmDuplicates
}

// The JSON of an IngestEventsRequest, limited to what the emulator knows:
// any other field is refused, as Google refuses unknown fields.
type (
	dmRequest struct {
		Destinations []dmDestination `json:"destinations"`
		Events       []dmEvent       `json:"events"`
		Consent      *dmConsent      `json:"consent"`
		Encoding     string          `json:"encoding"`
		ValidateOnly bool            `json:"validateOnly"`
	}
	dmDestination struct {
		OperatingAccount     *dmAccount `json:"operatingAccount"`
		LoginAccount         *dmAccount `json:"loginAccount"`
		LinkedAccount        *dmAccount `json:"linkedAccount"`
		ProductDestinationID string     `json:"productDestinationId"`
		Reference            string     `json:"reference"`
	}
	dmAccount struct {
		AccountType string `json:"accountType"`
		AccountID   string `json:"accountId"`
	}
	dmEvent struct {
		DestinationReferences []string         `json:"destinationReferences"`
		TransactionID         string           `json:"transactionId"`
		EventTimestamp        string           `json:"eventTimestamp"`
		LastUpdatedTimestamp  string           `json:"lastUpdatedTimestamp"`
		UserData              *dmUserData      `json:"userData"`
		Consent               *dmConsent       `json:"consent"`
		AdIdentifiers         *dmAdIdentifiers `json:"adIdentifiers"`
		Currency              string           `json:"currency"`
		ConversionValue       *float64         `json:"conversionValue"`
		EventSource           string           `json:"eventSource"`
		CallInfo              *dmCallInfo      `json:"callInfo"`
	}
	dmAdIdentifiers struct {
		Gclid  string `json:"gclid"`
		Gbraid string `json:"gbraid"`
		Wbraid string `json:"wbraid"`
	}
	dmUserData struct {
		UserIdentifiers []dmUserIdentifier `json:"userIdentifiers"`
	}
	dmUserIdentifier struct {
		EmailAddress string `json:"emailAddress"`
		PhoneNumber  string `json:"phoneNumber"`
	}
	dmConsent struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	}
	dmCallInfo struct {
		StartTimestamp string `json:"startTimestamp"`
	}
)

func (s *Server) routeDataManager(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/events:ingest", s.withFaults(s.dmIngest))
	mux.HandleFunc("GET /v1/requestStatus:retrieve", s.withFaults(s.dmRequestStatus))
}

// dmIngest is IngestionService.IngestEvents: fast-fail validation of the
// whole request, then every event recorded (or, with validateOnly,
// nothing).
func (s *Server) dmIngest(w http.ResponseWriter, r *http.Request) {
	s.google.count(EndpointIngestEvents)
	if !s.authorize(w, r, scopeDataManager, dmDomain) {
		return
	}
	body, ok := readGoogleBody(w, r)
	if !ok {
		return
	}
	var req dmRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
			"Invalid JSON payload received. "+err.Error(), newErrorInfo("INVALID_JSON", dmDomain))
		return
	}
	now := s.now()
	cfg := s.google.config()
	if !reachesDestinations(&req, cfg) {
		s.log.DebugContext(r.Context(), "emulator: events:ingest refused", "events", len(req.Events), "reason", "permission")
		writeGoogleError(w, http.StatusForbidden, "PERMISSION_DENIED",
			"The caller does not have permission to access the operating account, or it was not found.",
			newErrorInfo("PERMISSION_DENIED", dmDomain))
		return
	}
	if vs := validateIngest(&req, cfg, now); len(vs) > 0 {
		s.log.DebugContext(r.Context(), "emulator: events:ingest refused", "events", len(req.Events), "violations", len(vs))
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Request contains an invalid argument: %s: %s", vs[0].Field, vs[0].Description),
			newErrorInfo(vs[0].Reason, dmDomain), badRequest{Type: badRequestType, FieldViolations: vs})
		return
	}

	g := s.google
	g.mu.Lock()
	// Its own sequence: the request count is taken before the lock, so two
	// requests at once could otherwise get one id.
	g.dmRequestSeq++
	requestID := fmt.Sprintf("emulated-dm-%d", g.dmRequestSeq)
	kept, dups := 0, 0
	if !req.ValidateOnly {
		g.rememberIngest(requestID, &req, now)
		for _, e := range req.Events {
			for _, d := range eventDestinations(&req, &e) {
				rec := dmRecord(&req, &e, d, requestID, now)
				key := rec.TransactionID + "|" + rec.CustomerID + "|" + rec.ConversionAction
				if rec.TransactionID != "" && g.dmSeen[key] {
					g.dmDuplicates++
					dups++
					continue
				}
				if rec.TransactionID != "" {
					g.dmSeen[key] = true
				}
				g.dmEvents = append(g.dmEvents, rec)
				kept++
			}
		}
	}
	g.mu.Unlock()

	s.log.DebugContext(r.Context(), "emulator: events:ingest",
		"events", len(req.Events), "recorded", kept, "duplicates", dups, "validate_only", req.ValidateOnly)
	writeJSON(w, http.StatusOK, struct {
		RequestID string `json:"requestId"`
	}{requestID})
}

// reachesDestinations reports whether the user reaches the operating
// account of every destination of req, through its login account when it
// has one. Destinations without an operating account are left to the
// field validation.
func reachesDestinations(req *dmRequest, cfg AdsConfig) bool {
	for _, d := range req.Destinations {
		if d.OperatingAccount == nil {
			continue
		}
		login := ""
		if d.LoginAccount != nil {
			login = d.LoginAccount.AccountID
		}
		if !cfg.reaches(d.OperatingAccount.AccountID, login) {
			return false
		}
	}
	return true
}

// eventDestinations returns the destinations e goes to: those its
// references name, or every destination when it names none.
func eventDestinations(req *dmRequest, e *dmEvent) []*dmDestination {
	var out []*dmDestination
	for i := range req.Destinations {
		d := &req.Destinations[i]
		if len(e.DestinationReferences) == 0 || slices.Contains(e.DestinationReferences, d.Reference) {
			out = append(out, d)
		}
	}
	return out
}

// dmRecord is what the emulator keeps of e sent to d.
func dmRecord(req *dmRequest, e *dmEvent, d *dmDestination, requestID string, now time.Time) DataManagerEvent {
	rec := DataManagerEvent{
		RequestID:        requestID,
		CustomerID:       d.OperatingAccount.AccountID,
		ConversionAction: d.ProductDestinationID,
		EventTimestamp:   e.EventTimestamp,
		Value:            e.ConversionValue,
		Currency:         e.Currency,
		TransactionID:    e.TransactionID,
		EventSource:      e.EventSource,
		ReceivedAt:       now,
	}
	if d.LoginAccount != nil {
		rec.LoginCustomerID = d.LoginAccount.AccountID
	}
	if e.AdIdentifiers != nil {
		rec.GCLID = e.AdIdentifiers.Gclid
	}
	if e.UserData != nil {
		for _, id := range e.UserData.UserIdentifiers {
			if id.PhoneNumber != "" {
				rec.HashedPhones = append(rec.HashedPhones, id.PhoneNumber)
			}
			if id.EmailAddress != "" {
				rec.HashedEmails = append(rec.HashedEmails, id.EmailAddress)
			}
		}
	}
	if e.CallInfo != nil {
		rec.CallStart = e.CallInfo.StartTimestamp
	}
	consent := e.Consent
	if consent == nil {
		consent = req.Consent
	}
	if consent != nil {
		rec.AdUserData = consent.AdUserData
	}
	return rec
}
