package storetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var rejectTests = []subtest{
	{"reject/kept newest first", testReject},
}

func testReject(t *testing.T, e *env) {
	first := store.Rejected{
		Status:      http.StatusBadRequest,
		Reason:      "missing field",
		Field:       "Call.Sid",
		Method:      http.MethodPost,
		ContentType: "application/x-www-form-urlencoded",
		Body:        []byte("Call.Duration=12&Call.From=%2B61400000001"),
	}
	given := store.Rejected{
		ID:     "given-id",
		At:     epoch.Add(time.Hour),
		Status: http.StatusUnauthorized,
		Reason: "bad token",
		Method: http.MethodGet,
		Query:  "Call.Sid=CA1",
	}
	last := store.Rejected{
		Status: http.StatusRequestEntityTooLarge,
		Reason: "body too large",
		Method: http.MethodPost,
	}
	for i, r := range []store.Rejected{first, given, last} {
		if err := e.s.Reject(e.ctx, r); err != nil {
			t.Fatalf("Reject #%d = %v, want nil", i+1, err)
		}
		e.clock.Advance(time.Second)
	}
	e.wantStats(t, store.Stats{Rejected: 3})

	got, err := e.s.RejectedRequests(e.ctx, 0)
	if err != nil {
		t.Fatalf("RejectedRequests(0) = %v, want nil", err)
	}
	if len(got) != 3 {
		t.Fatalf("RejectedRequests(0) returned %d requests, want 3", len(got))
	}
	// Newest first by At: the given At is an hour ahead of the others.
	wantSameJSON(t, "newest", got[0], given)
	firstID, lastID := got[2].ID, got[1].ID
	if firstID == "" || lastID == "" || firstID == lastID {
		t.Fatalf("filled IDs = %q, %q; want two different IDs", firstID, lastID)
	}
	if firstID >= lastID {
		t.Fatalf("filled IDs %q (older) and %q (newer) do not sort by time", firstID, lastID)
	}
	first.ID, first.At = firstID, epoch
	last.ID, last.At = lastID, epoch.Add(2*time.Second)
	wantSameJSON(t, "RejectedRequests(0)", got, []store.Rejected{given, last, first})

	limited, err := e.s.RejectedRequests(e.ctx, 2)
	if err != nil {
		t.Fatalf("RejectedRequests(2) = %v, want nil", err)
	}
	wantSameJSON(t, "RejectedRequests(2)", limited, []store.Rejected{given, last})
}
