package emulator

import (
	"encoding/json"
	"io"
	"net/http"
)

// maxControlBody bounds the body of a control request.
const maxControlBody = 64 << 10

// GA4Recording is the answer of GET /emulator/ga4/events.
type GA4Recording struct {
	Events  []GA4Event `json:"events"`
	Dropped []GA4Drop  `json:"dropped"`
}

func (s *Server) routeControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /emulator/ga4/events", s.controlGA4Events)
	mux.HandleFunc("GET /emulator/summary", s.controlSummary)
	mux.HandleFunc("POST /emulator/reset", s.controlReset)
	mux.HandleFunc("GET /emulator/faults", s.controlGetFaults)
	mux.HandleFunc("PUT /emulator/faults", s.controlPutFaults)
}

func (s *Server) controlGA4Events(w http.ResponseWriter, r *http.Request) {
	rec := GA4Recording{Events: s.GA4Events(), Dropped: s.GA4Dropped()}
	if rec.Events == nil {
		rec.Events = []GA4Event{}
	}
	if rec.Dropped == nil {
		rec.Dropped = []GA4Drop{}
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Server) controlReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) controlGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

// controlPutFaults replaces the faults and answers them back.
func (s *Server) controlPutFaults(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{err.Error()})
		return
	}
	var f Faults
	if err := json.Unmarshal(b, &f); err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{err.Error()})
		return
	}
	if err := f.Validate(); err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{err.Error()})
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, f)
}

// errorReply is the body of a refused control request.
type errorReply struct {
	Error string `json:"error"`
}
