package redis

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEncodeTimeSortsLikeTime(t *testing.T) {
	base := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	times := []time.Time{
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(-1, 0),
		time.Unix(0, -1),
		time.Unix(0, 0),
		time.Unix(0, 1),
		base.Add(-time.Nanosecond),
		base,
		base.Add(time.Nanosecond),
		base.Add(time.Minute),
		time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	var encoded []string
	for _, tm := range times {
		e := encodeTime(tm)
		if len(e) != timeLen {
			t.Fatalf("encodeTime(%v) = %q, want %d characters", tm, e, timeLen)
		}
		got, err := decodeTime(e)
		if err != nil || !got.Equal(tm) || got.Location() != time.UTC {
			t.Fatalf("decodeTime(encodeTime(%v)) = %v, %v; want the same time in UTC", tm, got, err)
		}
		encoded = append(encoded, e)
	}
	if !slices.IsSorted(encoded) {
		t.Fatalf("encoded times %q do not sort like the times", encoded)
	}
}

func TestUpTo(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	bound := strings.TrimPrefix(upTo(at), "(")
	tests := []struct {
		member string
		in     bool
	}{
		{encodeTime(at.Add(-time.Nanosecond)) + "CA-1/r/web", true},
		{encodeTime(at) + "CA-1/r/web", true},
		{encodeTime(at) + "\xff\xff", true},
		{encodeTime(at.Add(time.Nanosecond)), false},
		{encodeTime(at.Add(time.Nanosecond)) + "CA-1/r/web", false},
	}
	for _, tc := range tests {
		if in := tc.member < bound; in != tc.in {
			t.Errorf("member %q within upTo(at) = %v, want %v", tc.member, in, tc.in)
		}
	}
}

func TestDecodeTimeRefusesGarbage(t *testing.T) {
	for _, s := range []string{"", "123", "zzzzzzzzzzzzzzzz", "00000000000000000"} {
		if _, err := decodeTime(s); err == nil {
			t.Errorf("decodeTime(%q) = nil error, want one", s)
		}
	}
}
