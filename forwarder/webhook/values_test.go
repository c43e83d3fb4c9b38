package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func TestNormalisePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw       string
		anonymous bool
		want      string
	}{
		{"+61412345678", true, "+61412345678"},
		{" 61412345678", true, "+61412345678"},    // '+' decoded as a space in an unencoded GET
		{" 61412345678 ", true, "+61412345678"},   // and a trailing space
		{" 61 412 345 678", true, "+61412345678"}, // spaces inside, unencoded
		{"  +61412345678\t", true, "+61412345678"},
		{"+61 412 345 678", true, "+61412345678"},
		{"+61-412-345-678", true, "+61412345678"},
		{"+61.412.345.678", true, "+61412345678"},
		{"+61 (2) 9123 4567", true, "+61291234567"},
		{"+61 (0)2 9123 4567", true, "+61291234567"},
		{"+1 (555) 010-9999", true, "+15550109999"},
		{"anonymous", true, forwarder.AnonymousCaller},
		{"Anonymous", true, forwarder.AnonymousCaller},
		{" ANONYMOUS ", true, forwarder.AnonymousCaller},
		{"anonymous", false, "anonymous"}, // only Call.From knows anonymous
		{"", true, ""},
		{"   ", true, ""},
		// Not E.164 after repair: kept as given (trimmed), not rejected.
		{"0412 345 678", true, "0412 345 678"},
		{"0061412345678", true, "0061412345678"},
		{"+61 4x2", true, "+61 4x2"},
		{"+0412345678", true, "+0412345678"},
		{"+1234567890123456", true, "+1234567890123456"},
		{"  61412345678", true, "61412345678"}, // two spaces: not the unencoded '+'
		{"private", true, "private"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			if got := normalisePhone(tt.raw, tt.anonymous); got != tt.want {
				t.Errorf("normalisePhone(%q, %v) = %q, want %q", tt.raw, tt.anonymous, got, tt.want)
			}
		})
	}
}

func TestIsE164(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"+61412345678":      true,
		"+1234567":          true,  // 7 digits: the shortest
		"+123456789012345":  true,  // 15 digits: the longest
		"+123456":           false, // 6 digits
		"+1234567890123456": false,
		"+0412345678":       false,
		"61412345678":       false,
		"+6141234567a":      false,
		"+":                 false,
		"":                  false,
	}
	for v, want := range tests {
		if got := isE164(v); got != want {
			t.Errorf("isE164(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestNormaliseClientID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"1873452911.1764110422", "1873452911.1764110422", true},
		{"GA1.2.555444333.1764127000", "555444333.1764127000", true},
		{"GA1.1.555444333.1764127000", "555444333.1764127000", true},
		{"GA1.3.555444333.1764127000", "555444333.1764127000", true},
		{"GA1.12.1.2", "1.2", true},
		{"", "", true},
		{"555444333", "", false},
		{"555444333.", "", false},
		{".1764127000", "", false},
		{"555444333.1764127000.1", "", false},
		{"GA1.2.555444333", "", false},
		{"GA1.555444333.1764127000", "", false}, // domain depth missing
		{"GA.2.555444333.1764127000", "", false},
		{"GS1.1.555444333.1764127000", "", false},
		{"ga1.2.555444333.1764127000", "", false},
		{"abc.def", "", false},
		{"5554 44333.1764127000", "", false},
		{"-1.2", "", false},
		{strings.Repeat("1", 21) + ".1", "", false},
		{"1." + strings.Repeat("1", 21), "", false},
		{strings.Repeat("1", 20) + "." + strings.Repeat("2", 20), strings.Repeat("1", 20) + "." + strings.Repeat("2", 20), true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := normaliseClientID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("normaliseClientID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNormaliseDisposition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want forwarder.Disposition
	}{
		{"ANSWERED", forwarder.DispositionAnswered},
		{" answered ", forwarder.DispositionAnswered},
		{"NO ANSWER", forwarder.DispositionNoAnswer},
		{"no answer", forwarder.DispositionNoAnswer},
		{"NO_ANSWER", forwarder.DispositionNoAnswer},
		{"NOANSWER", forwarder.DispositionNoAnswer},
		{"No-Answer", forwarder.DispositionNoAnswer},
		{"NO  ANSWER", forwarder.DispositionNoAnswer},
		{"busy", forwarder.DispositionBusy},
		{"Ivr", forwarder.DispositionIVR},
		{"FAILED", forwarder.DispositionFailed},
		{"VOICEMAIL", "VOICEMAIL"},         // unknown: kept
		{"no answer yet", "NO ANSWER YET"}, // not NO ANSWER
		{"NOANSWERS", "NOANSWERS"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := normaliseDisposition(tt.in); got != tt.want {
				t.Errorf("normaliseDisposition(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseStartDate(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 25, 23, 41, 7, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		problem string
	}{
		{"2026-11-25 23:41:07", want, ""},
		{"2026-11-25T23:41:07Z", want, ""},
		{"2026-11-25T23:41:07", want, ""},
		{"2026-11-26T10:41:07+11:00", want, ""},
		{"2026-11-26T10:41:07 11:00", want, ""}, // unencoded '+' in a GET
		{"2026-11-25T18:41:07-05:00", want, ""},
		{"2026-11-25T23:41:07.250Z", want.Add(250 * time.Millisecond), ""},
		{"2026-11-25 23:41", time.Time{}, "not a date"},
		{"2026-11-25", time.Time{}, "not a date"},
		{"1764114067", time.Time{}, "not a date"},
		{"2026-02-30 00:00:00", time.Time{}, "not a date"},
		{"1969-12-31 23:59:59", time.Time{}, "out of range"},
		{"9999-12-31T23:00:00-05:00", time.Time{}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, problem := parseStartDate(tt.in)
			if tt.problem != "" {
				if !strings.Contains(problem, tt.problem) {
					t.Errorf("parseStartDate(%q) problem %q, want ...%s...", tt.in, problem, tt.problem)
				}
				return
			}
			if problem != "" || !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("parseStartDate(%q) = %v, %q; want %v in UTC", tt.in, got, problem, tt.want)
			}
		})
	}
}

func TestIsSid(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b": true,
		"a":                                  true,
		"call_1.2:3-4":                       true,
		strings.Repeat("a", 128):             true,
		strings.Repeat("a", 129):             false,
		"":                                   false,
		"CA1/x":                              false,
		"CA 1":                               false,
		"CAé":                                false,
	}
	for v, want := range tests {
		if got := isSid(v); got != want {
			t.Errorf("isSid(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestIsEventName(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"Call.Complete":                true,
		"Call.Initiate":                true,
		"Sms.Received":                 true,
		"Call":                         false,
		"Call.":                        false,
		".Complete":                    false,
		"Call..Complete":               false,
		"Call.Compl3te":                false,
		"Call.Complete ":               false,
		"Call_Complete":                false,
		"Call.Ünicode":                 false,
		"A." + strings.Repeat("b", 62): true,
		"A." + strings.Repeat("b", 63): false,
	}
	for v, want := range tests {
		if got := isEventName(v); got != want {
			t.Errorf("isEventName(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSplitList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"2000", []string{"2000"}},
		{"1,2000", []string{"1", "2000"}},
		{" 1 , 2000 ,", []string{"1", "2000"}},
		{",,", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := splitList(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || (got == nil) != (tt.want == nil) {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
