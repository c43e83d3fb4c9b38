package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EndpointRequestStatus names requestStatus:retrieve in [Server.Requests].
const EndpointRequestStatus = "datamanager_request_status"

// ProcessingConfig steers how the emulated Data Manager "processes" the
// events it accepted, as reported by requestStatus:retrieve. The zero value
// reports every request SUCCESS at once.
type ProcessingConfig struct {
	// DelayMS is how long after events:ingest a request stays PROCESSING.
	DelayMS int64 `json:"delay_ms,omitempty"`
	// RejectGCLIDPrefixes maps a GCLID prefix to the processing error
	// reason given to every event whose click starts with it, e.g.
	// {"EXPIRED-": "PROCESSING_ERROR_REASON_EXPIRED_CLICK"}. The longest
	// matching prefix wins.
	RejectGCLIDPrefixes map[string]string `json:"reject_gclid_prefixes,omitempty"`
	// OmitIndices answers error counts without recordIndices, as Google
	// may.
	OmitIndices bool `json:"omit_indices,omitempty"`
	// MinPollGapMS is the shortest gap allowed between two polls of one
	// request; closer polls are counted in [PollReport.Violations].
	MinPollGapMS int64 `json:"min_poll_gap_ms,omitempty"`
}

func (c ProcessingConfig) clone() ProcessingConfig {
	out := c
	if c.RejectGCLIDPrefixes != nil {
		out.RejectGCLIDPrefixes = make(map[string]string, len(c.RejectGCLIDPrefixes))
		for k, v := range c.RejectGCLIDPrefixes {
			out.RejectGCLIDPrefixes[k] = v
		}
	}
	return out
}

// reason is the processing error reason of an event with gclid, or "".
func (c ProcessingConfig) reason(gclid string) string {
	best, reason := -1, ""
	for p, r := range c.RejectGCLIDPrefixes {
		if gclid != "" && strings.HasPrefix(gclid, p) && len(p) > best {
			best, reason = len(p), r
		}
	}
	return reason
}

// dmIngested is what the emulator keeps of one accepted ingest request to
// answer requestStatus:retrieve about it.
type dmIngested struct {
	at           time.Time
	destinations int
	// events holds, per event in events[] order, the destination indices
	// it went to and its click.
	events []dmIngestedEvent
	polls  []time.Time
}

type dmIngestedEvent struct {
	dests []int
	gclid string
}

// rememberIngest records req, accepted as requestID at now. The caller
// holds g.mu.
func (g *googleState) rememberIngest(requestID string, req *dmRequest, now time.Time) {
	rec := &dmIngested{at: now, destinations: len(req.Destinations)}
	for i := range req.Events {
		e := &req.Events[i]
		ev := dmIngestedEvent{}
		if e.AdIdentifiers != nil {
			ev.gclid = e.AdIdentifiers.Gclid
		}
		for di := range req.Destinations {
			d := &req.Destinations[di]
			if len(e.DestinationReferences) == 0 || slices.Contains(e.DestinationReferences, d.Reference) {
				ev.dests = append(ev.dests, di)
			}
		}
		rec.events = append(rec.events, ev)
	}
	if g.dmIngested == nil {
		g.dmIngested = map[string]*dmIngested{}
	}
	g.dmIngested[requestID] = rec
}

// PollReport counts the requestStatus:retrieve calls the emulator answered.
type PollReport struct {
	// Polls is the number of polls of known requests.
	Polls int `json:"polls"`
	// Violations counts polls that came sooner than MinPollGapMS after the
	// previous poll of the same request.
	Violations int `json:"violations"`
	// MostPolled is the largest number of polls of one request.
	MostPolled int `json:"most_polled"`
}

// RequestStatusPolls reports the polls answered so far.
func (s *Server) RequestStatusPolls() PollReport {
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	gap := time.Duration(g.cfg.Processing.MinPollGapMS) * time.Millisecond
	var r PollReport
	for _, rec := range g.dmIngested {
		r.Polls += len(rec.polls)
		r.MostPolled = max(r.MostPolled, len(rec.polls))
		for i := 1; i < len(rec.polls); i++ {
			if rec.polls[i].Sub(rec.polls[i-1]) < gap {
				r.Violations++
			}
		}
	}
	return r
}

// The JSON of a RetrieveRequestStatusResponse, as far as events go.
type (
	dmStatusReply struct {
		RequestStatusPerDestination []dmDestinationStatus `json:"requestStatusPerDestination"`
	}
	dmDestinationStatus struct {
		RequestStatus         string           `json:"requestStatus"`
		ErrorInfo             *dmErrorInfo     `json:"errorInfo,omitempty"`
		EventsIngestionStatus *dmRecordCounter `json:"eventsIngestionStatus,omitempty"`
	}
	dmErrorInfo struct {
		ErrorCounts []dmErrorCount `json:"errorCounts"`
	}
	dmErrorCount struct {
		Reason        string  `json:"reason"`
		RecordCount   string  `json:"recordCount"`
		RecordIndices []int64 `json:"recordIndices,omitempty"`
	}
	dmRecordCounter struct {
		RecordCount string `json:"recordCount"`
	}
)

// dmRequestStatus is RequestStatusService.RetrieveRequestStatus.
func (s *Server) dmRequestStatus(w http.ResponseWriter, r *http.Request) {
	s.google.count(EndpointRequestStatus)
	if !s.authorize(w, r, scopeDataManager, dmDomain) {
		return
	}
	id := r.URL.Query().Get("requestId")
	if id == "" {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
			"Request contains an invalid argument: request_id: Required field is missing.",
			newErrorInfo("REQUIRED_FIELD_MISSING", dmDomain))
		return
	}
	now := s.now()
	g := s.google
	g.mu.Lock()
	rec := g.dmIngested[id]
	cfg := g.cfg.Processing
	if rec != nil {
		rec.polls = append(rec.polls, now)
	}
	var reply dmStatusReply
	if rec != nil {
		reply = rec.status(cfg, now)
	}
	g.mu.Unlock()
	if rec == nil {
		writeGoogleError(w, http.StatusNotFound, "NOT_FOUND",
			"Requested entity was not found.", newErrorInfo("NOT_FOUND", dmDomain))
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// status is the request's status per destination at now.
func (rec *dmIngested) status(cfg ProcessingConfig, now time.Time) dmStatusReply {
	out := dmStatusReply{RequestStatusPerDestination: make([]dmDestinationStatus, rec.destinations)}
	if now.Sub(rec.at) < time.Duration(cfg.DelayMS)*time.Millisecond {
		for i := range out.RequestStatusPerDestination {
			out.RequestStatusPerDestination[i].RequestStatus = "PROCESSING"
		}
		return out
	}
	for d := range out.RequestStatusPerDestination {
		total, failed := 0, 0
		byReason := map[string][]int64{}
		var reasons []string
		for i, e := range rec.events {
			if !slices.Contains(e.dests, d) {
				continue
			}
			total++
			if reason := cfg.reason(e.gclid); reason != "" {
				failed++
				if _, seen := byReason[reason]; !seen {
					reasons = append(reasons, reason)
				}
				byReason[reason] = append(byReason[reason], int64(i))
			}
		}
		st := dmDestinationStatus{
			RequestStatus:         "SUCCESS",
			EventsIngestionStatus: &dmRecordCounter{RecordCount: strconv.Itoa(total)},
		}
		switch {
		case failed > 0 && failed == total:
			st.RequestStatus = "FAILED"
		case failed > 0:
			st.RequestStatus = "PARTIAL_SUCCESS"
		}
		if failed > 0 {
			st.ErrorInfo = &dmErrorInfo{}
			for _, reason := range reasons {
				ec := dmErrorCount{Reason: reason, RecordCount: strconv.Itoa(len(byReason[reason]))}
				if !cfg.OmitIndices {
					ec.RecordIndices = byReason[reason]
				}
				st.ErrorInfo.ErrorCounts = append(st.ErrorInfo.ErrorCounts, ec)
			}
		}
		out.RequestStatusPerDestination[d] = st
	}
	return out
}
