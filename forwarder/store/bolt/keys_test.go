package bolt

import (
	"bytes"
	"testing"
	"time"
)

func TestTimeKeysSortByTime(t *testing.T) {
	base := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	// Ascending times, including some before 1970 and a tie broken by ID.
	times := []struct {
		at time.Time
		id string
	}{
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "z"},
		{time.Unix(0, -1), "a"},
		{time.Unix(0, 0), "a"},
		{base, "a/r/web"},
		{base, "b/r/web"},
		{base.Add(time.Nanosecond), "a"},
		{base.Add(24 * time.Hour), ""},
	}
	for i := 1; i < len(times); i++ {
		prev, cur := timeKey(times[i-1].at, times[i-1].id), timeKey(times[i].at, times[i].id)
		if bytes.Compare(prev, cur) >= 0 {
			t.Errorf("key of %v %q does not sort before key of %v %q", times[i-1].at, times[i-1].id, times[i].at, times[i].id)
		}
	}
	for _, tc := range times {
		k := timeKey(tc.at, tc.id)
		if got := decodeTime(k); !got.Equal(tc.at) {
			t.Errorf("decodeTime(timeKey(%v)) = %v", tc.at, got)
		}
		if got := keyID(k); got != tc.id {
			t.Errorf("keyID(timeKey(%q)) = %q", tc.id, got)
		}
		if !bytes.Equal(encodeTime(tc.at), k[:timeLen]) {
			t.Errorf("encodeTime(%v) differs from the key's time", tc.at)
		}
	}
}
