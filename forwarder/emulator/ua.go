package emulator

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// uaPixel is the 1x1 transparent GIF /collect answered with.
var uaPixel = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

// UAHit is a legacy Universal Analytics hit /collect received and the
// collector would have kept.
type UAHit struct {
	TrackingID     string            `json:"tracking_id"`
	ClientID       string            `json:"client_id,omitempty"`
	UserID         string            `json:"user_id,omitempty"`
	HitType        string            `json:"hit_type"`
	Category       string            `json:"category,omitempty"`
	Action         string            `json:"action,omitempty"`
	Label          string            `json:"label,omitempty"`
	Value          *int64            `json:"value,omitempty"`
	NonInteraction bool              `json:"non_interaction,omitempty"`
	Campaign       map[string]string `json:"campaign,omitempty"`
	// QueueTimeMillis is qt as received (0 when absent).
	QueueTimeMillis int64 `json:"queue_time_ms,omitempty"`
	// HitTime is when the hit happened: ReceivedAt minus qt.
	HitTime    time.Time `json:"hit_time"`
	ReceivedAt time.Time `json:"received_at"`
}

// UADrop is a payload /collect answered 200 to but the collector would have
// dropped, with the validation server's findings.
type UADrop struct {
	// Params holds the first value of each parameter received.
	Params     map[string]string `json:"params"`
	Messages   []UAParserMessage `json:"messages"`
	ReceivedAt time.Time         `json:"received_at"`
}

// UARecording is the answer of GET /emulator/ua/hits.
type UARecording struct {
	Hits    []UAHit  `json:"hits"`
	Dropped []UADrop `json:"dropped"`
}

// uaHitResult is one entry of the validation server's hitParsingResult.
type uaHitResult struct {
	Valid         bool              `json:"valid"`
	Hit           string            `json:"hit"`
	ParserMessage []UAParserMessage `json:"parserMessage"`
}

// uaDebugReply is the validation server's answer.
type uaDebugReply struct {
	HitParsingResult []uaHitResult     `json:"hitParsingResult"`
	ParserMessage    []UAParserMessage `json:"parserMessage"`
}

// uaState is what the UA endpoints recorded.
type uaState struct {
	mu      sync.Mutex
	hits    []UAHit
	dropped []UADrop
}

// UAHits returns, in arrival order, every hit /collect kept. The caller
// must not modify the campaign maps.
func (s *Server) UAHits() []UAHit {
	s.ua.mu.Lock()
	defer s.ua.mu.Unlock()
	return slices.Clone(s.ua.hits)
}

// UADropped returns, in arrival order, every payload /collect received but
// the collector would have dropped.
func (s *Server) UADropped() []UADrop {
	s.ua.mu.Lock()
	defer s.ua.mu.Unlock()
	return slices.Clone(s.ua.dropped)
}

func (s *Server) resetUA() {
	s.ua.mu.Lock()
	defer s.ua.mu.Unlock()
	s.ua.hits = nil
	s.ua.dropped = nil
}

func (s *Server) routeUA(mux *http.ServeMux) {
	mux.HandleFunc("POST /collect", s.withFaults(s.uaCollect))
	mux.HandleFunc("POST /debug/collect", s.withFaults(s.uaDebug))
	mux.HandleFunc("GET /emulator/ua/hits", s.controlUAHits)
}

// uaCollect answers 200 with a GIF to whatever reaches it, as the UA
// collector did, and records the hit as kept or dropped.
func (s *Server) uaCollect(w http.ResponseWriter, r *http.Request) {
	body, ok := readUABody(w, r)
	if !ok {
		return
	}
	now := s.now()
	p := parseUA(body)
	valid := p.valid()

	s.ua.mu.Lock()
	if valid {
		s.ua.hits = append(s.ua.hits, p.record(now))
	} else {
		s.ua.dropped = append(s.ua.dropped, UADrop{Params: firstValues(p.params), Messages: p.messages, ReceivedAt: now})
	}
	s.ua.mu.Unlock()

	s.log.DebugContext(r.Context(), "emulator: ua collect", "tracking_id", p.params.Get("tid"), "valid", valid)
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(uaPixel)
}

// uaDebug answers the validation server's findings and records nothing.
func (s *Server) uaDebug(w http.ResponseWriter, r *http.Request) {
	body, ok := readUABody(w, r)
	if !ok {
		return
	}
	p := parseUA(body)
	msgs := p.messages
	if msgs == nil {
		msgs = []UAParserMessage{}
	}
	s.log.DebugContext(r.Context(), "emulator: ua validate", "tracking_id", p.params.Get("tid"), "messages", len(msgs))
	writeJSON(w, http.StatusOK, uaDebugReply{
		HitParsingResult: []uaHitResult{{Valid: p.valid(), Hit: "/debug/collect?" + string(body), ParserMessage: msgs}},
		ParserMessage:    []UAParserMessage{{MessageType: uaMessageInfo, Description: "Found 1 hit in the request."}},
	})
}

// readUABody reads a request body of at most maxHeldBody bytes (a larger
// payload is still a finding of parseUA up to that point); it answers 400
// and returns false when the body cannot be read.
func readUABody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHeldBody))
	if err != nil {
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

func (s *Server) controlUAHits(w http.ResponseWriter, r *http.Request) {
	rec := UARecording{Hits: s.UAHits(), Dropped: s.UADropped()}
	if rec.Hits == nil {
		rec.Hits = []UAHit{}
	}
	if rec.Dropped == nil {
		rec.Dropped = []UADrop{}
	}
	writeJSON(w, http.StatusOK, rec)
}
