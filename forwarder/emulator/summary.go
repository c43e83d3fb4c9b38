package emulator

import (
	"maps"
	"net/http"
	"time"
)

// Summary is the answer of GET /emulator/summary: how much each API
// recorded and when the first and last of it arrived, without the records
// themselves, so that a benchmark can poll it cheaply while a large
// backlog drains.
type Summary struct {
	GA4 ArrivalSummary `json:"ga4"`
	// GA4Dropped counts events /mp/collect received but Google would have
	// dropped.
	GA4Dropped ArrivalSummary `json:"ga4_dropped"`
	// DataManager counts events events:ingest recorded (duplicates once).
	DataManager ArrivalSummary `json:"data_manager"`
	// DataManagerDuplicates counts events events:ingest accepted but did
	// not record again (same transaction id and destination).
	DataManagerDuplicates int `json:"data_manager_duplicates"`
	// ClickConversions counts click conversions uploadClickConversions
	// recorded.
	ClickConversions ArrivalSummary `json:"click_conversions"`
	// Requests counts the requests that reached each Google Ads side
	// endpoint (the Endpoint constants), as Server.Requests does.
	Requests map[string]int `json:"requests"`
}

// ArrivalSummary is the size of one recording and the arrival times of
// its first and last entries (zero when it is empty).
type ArrivalSummary struct {
	Count int       `json:"count"`
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
}

// arrivals summarises a recording kept in arrival order.
func arrivals[T any](list []T, at func(T) time.Time) ArrivalSummary {
	if len(list) == 0 {
		return ArrivalSummary{}
	}
	return ArrivalSummary{Count: len(list), First: at(list[0]), Last: at(list[len(list)-1])}
}

// Summary returns the counts and arrival times of everything recorded.
func (s *Server) Summary() Summary {
	var sum Summary
	s.mu.Lock()
	sum.GA4 = arrivals(s.ga4Events, func(e GA4Event) time.Time { return e.ReceivedAt })
	sum.GA4Dropped = arrivals(s.ga4Dropped, func(e GA4Drop) time.Time { return e.ReceivedAt })
	s.mu.Unlock()
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	sum.DataManager = arrivals(g.dmEvents, func(e DataManagerEvent) time.Time { return e.ReceivedAt })
	sum.DataManagerDuplicates = g.dmDuplicates
	sum.ClickConversions = arrivals(g.clicks, func(e AdsClickConversion) time.Time { return e.ReceivedAt })
	sum.Requests = maps.Clone(g.requests)
	return sum
}

func (s *Server) controlSummary(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Summary())
}
