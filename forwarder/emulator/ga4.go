package emulator

import (
	"io"
	"net/http"
	"slices"
	"time"
)

// GA4Event is an event /mp/collect received and Google would have kept.
type GA4Event struct {
	MeasurementID string `json:"measurement_id"`
	APISecret     string `json:"api_secret"`
	ClientID      string `json:"client_id"`
	// TimestampMicros is the event time the request gave (the event's own,
	// else the request's), 0 when it gave none.
	TimestampMicros int64  `json:"timestamp_micros,omitempty"`
	Name            string `json:"name"`
	// Params are as encoding/json decodes them: numbers are float64.
	Params map[string]any `json:"params,omitempty"`
	// UserProperties are the values of the request's user properties by
	// name, which apply to every event of the request.
	UserProperties map[string]any `json:"user_properties,omitempty"`
	// Consent is the request's consent signals by name ("ad_user_data":
	// "GRANTED", ...), which apply to every event of the request.
	Consent map[string]string `json:"consent,omitempty"`
	// Request numbers the /mp/collect request that carried the event,
	// from 1 (since New or Reset): events of one request share it.
	Request    int64     `json:"request"`
	ReceivedAt time.Time `json:"received_at"`
}

// GA4Drop is an event /mp/collect answered 204 to but Google would have
// dropped without a word, with the findings of the validation server. A
// request without any readable event gives one GA4Drop with an empty Name.
type GA4Drop struct {
	MeasurementID string              `json:"measurement_id"`
	ClientID      string              `json:"client_id,omitempty"`
	Name          string              `json:"name,omitempty"`
	Params        map[string]any      `json:"params,omitempty"`
	Messages      []ValidationMessage `json:"messages"`
	// Request numbers the /mp/collect request, as GA4Event.Request.
	Request    int64     `json:"request"`
	ReceivedAt time.Time `json:"received_at"`
}

// GA4Events returns, in arrival order, every event /mp/collect kept. The
// caller must not modify the params maps.
func (s *Server) GA4Events() []GA4Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ga4Events)
}

// GA4Dropped returns, in arrival order, every event /mp/collect received
// but Google would have dropped. The caller must not modify the params maps.
func (s *Server) GA4Dropped() []GA4Drop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ga4Dropped)
}

func (s *Server) routeGA4(mux *http.ServeMux) {
	mux.HandleFunc("POST /mp/collect", s.withFaults(s.ga4Collect))
	mux.HandleFunc("POST /debug/mp/collect", s.withFaults(s.ga4Debug))
}

// ga4Collect answers 204 to whatever reaches it, as Google does, and
// records each event as kept or dropped.
func (s *Server) ga4Collect(w http.ResponseWriter, r *http.Request) {
	body, ok := readGA4Body(w, r)
	if !ok {
		return
	}
	now := s.now()
	hit := parseGA4(r.URL.Query(), body, now, true)
	kept, dropped := hit.outcome(now)

	s.mu.Lock()
	s.ga4Requests++
	for i := range kept {
		kept[i].Request = s.ga4Requests
	}
	for i := range dropped {
		dropped[i].Request = s.ga4Requests
	}
	s.ga4Events = append(s.ga4Events, kept...)
	s.ga4Dropped = append(s.ga4Dropped, dropped...)
	s.mu.Unlock()

	s.log.DebugContext(r.Context(), "emulator: ga4 collect",
		"measurement_id", hit.measurementID, "kept", len(kept), "dropped", len(dropped))
	w.WriteHeader(http.StatusNoContent)
}

// ga4Debug answers the validation server's findings and records nothing.
// Like Google's, it does not check the API secret.
func (s *Server) ga4Debug(w http.ResponseWriter, r *http.Request) {
	body, ok := readGA4Body(w, r)
	if !ok {
		return
	}
	hit := parseGA4(r.URL.Query(), body, s.now(), false)
	msgs := hit.messages()
	s.log.DebugContext(r.Context(), "emulator: ga4 validate",
		"measurement_id", hit.measurementID, "messages", len(msgs))
	writeJSON(w, http.StatusOK, struct {
		ValidationMessages []ValidationMessage `json:"validationMessages"`
	}{msgs})
}

// readGA4Body reads a request body below the 130 kB limit; it answers 413
// (or 400 when the body cannot be read) and returns false otherwise.
func readGA4Body(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGA4Body))
	if err != nil {
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return nil, false
	}
	if len(body) >= maxGA4Body {
		http.Error(w, "the request body must be smaller than 130 kB", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return body, true
}

// outcome splits the events of h into those Google keeps and those it
// drops: a request-level finding drops every event.
func (h *ga4Hit) outcome(receivedAt time.Time) (kept []GA4Event, dropped []GA4Drop) {
	if len(h.events) == 0 {
		return nil, []GA4Drop{{
			MeasurementID: h.measurementID, ClientID: h.clientID,
			Messages: slices.Clone(h.problems), ReceivedAt: receivedAt,
		}}
	}
	for _, e := range h.events {
		msgs := append(slices.Clone(h.problems), e.problems...)
		if len(msgs) > 0 {
			dropped = append(dropped, GA4Drop{
				MeasurementID: h.measurementID, ClientID: h.clientID, Name: e.name, Params: e.params,
				Messages: msgs, ReceivedAt: receivedAt,
			})
			continue
		}
		ts := e.timestampMicros
		if ts == 0 {
			ts = h.timestampMicros
		}
		kept = append(kept, GA4Event{
			MeasurementID: h.measurementID, APISecret: h.apiSecret, ClientID: h.clientID,
			TimestampMicros: ts, Name: e.name, Params: e.params, UserProperties: h.userProperties,
			Consent: h.consent, ReceivedAt: receivedAt,
		})
	}
	return kept, dropped
}
