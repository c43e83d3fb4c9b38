package forwarder_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func TestCallerKey(t *testing.T) {
	t.Parallel()
	a := forwarder.CallerKey("AC1", "+61413000001")
	tests := []struct {
		name string
		key  string
		same bool
	}{
		{"same account and number", forwarder.CallerKey("AC1", "+61413000001"), true},
		{"another account", forwarder.CallerKey("AC2", "+61413000001"), false},
		{"another number", forwarder.CallerKey("AC1", "+61413000002"), false},
		{"account and number run together differently", forwarder.CallerKey("AC1+6141300000", "1"), false},
		{"the plain SHA-256 of the number, which Google receives", fmt.Sprintf("%x", sha256.Sum256([]byte("+61413000001"))), false},
	}
	for _, tc := range tests {
		if got := tc.key == a; got != tc.same {
			t.Errorf("%s: same key = %v, want %v", tc.name, got, tc.same)
		}
	}
	if !forwarder.ValidCallerKey(a) || strings.Contains(a, "61413000001") {
		t.Errorf("CallerKey = %q, want 64 lowercase hex characters that do not show the number", a)
	}
}

func TestValidCallerKey(t *testing.T) {
	t.Parallel()
	k := forwarder.CallerKey("AC1", "+61413000001")
	tests := []struct {
		key  string
		want bool
	}{
		{k, true},
		{strings.Repeat("0", 64), true},
		{"", false},
		{"+61413000001", false},
		{strings.ToUpper(k), false},
		{k[:63], false},
		{k + "a", false},
		{k[:63] + "g", false},
	}
	for _, tc := range tests {
		if got := forwarder.ValidCallerKey(tc.key); got != tc.want {
			t.Errorf("ValidCallerKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestCallerHistory(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	key := forwarder.CallerKey("AC1", "+61413000001")
	tests := []struct {
		name      string
		h         *forwarder.CallerHistory
		known     bool
		since     time.Duration
		hasBefore bool
	}{
		{"not looked up", nil, false, 0, false},
		{"caller not identified", &forwarder.CallerHistory{At: at}, false, 0, false},
		{"store unavailable", &forwarder.CallerHistory{Key: key, At: at, Previous: at.Add(-time.Hour), Unavailable: true}, false, 0, false},
		{"no earlier call", &forwarder.CallerHistory{Key: key, At: at}, true, 0, false},
		{"an earlier call", &forwarder.CallerHistory{Key: key, At: at, Previous: at.Add(-50 * time.Hour)}, true, 50 * time.Hour, true},
	}
	for _, tc := range tests {
		if got := tc.h.Known(); got != tc.known {
			t.Errorf("%s: Known() = %v, want %v", tc.name, got, tc.known)
		}
		since, ok := tc.h.SincePrevious()
		if since != tc.since || ok != tc.hasBefore {
			t.Errorf("%s: SincePrevious() = %v, %v; want %v, %v", tc.name, since, ok, tc.since, tc.hasBefore)
		}
	}
}

func TestCallHistoryJSON(t *testing.T) {
	t.Parallel()
	// A call that was not looked up encodes as before; one that was
	// carries its history, and no phone number in it.
	plain, err := json.Marshal(forwarder.Call{Sid: "CA1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "caller_history") {
		t.Errorf("call without history encodes %s, want no caller_history", plain)
	}
	at := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	h := &forwarder.CallerHistory{Key: forwarder.CallerKey("AC1", "+61413000001"), At: at}
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"key":"` + h.Key + `","at":"2026-11-27T01:00:00Z"}`
	if string(data) != want {
		t.Errorf("history encodes %s, want %s", data, want)
	}
}
