package diagnose

import (
	"encoding/json"
	"strings"
	"testing"

	datamanager "google.golang.org/api/datamanager/v1"
)

func status(t *testing.T, js string) *datamanager.RetrieveRequestStatusResponse {
	t.Helper()
	var r datamanager.RetrieveRequestStatusResponse
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	return &r
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		resp    string
		destOf  []int
		done    bool
		want    []string // Verdict.String() per event
		wantErr string
	}{
		{
			name:   "still processing",
			resp:   `{"requestStatusPerDestination":[{"requestStatus":"PROCESSING"}]}`,
			destOf: []int{0, 0},
		},
		{
			name:   "status unknown",
			resp:   `{"requestStatusPerDestination":[{"requestStatus":"REQUEST_STATUS_UNKNOWN"}]}`,
			destOf: []int{0},
		},
		{
			name:   "empty answer",
			resp:   `{}`,
			destOf: []int{0},
		},
		{
			name:   "one destination done, another processing",
			resp:   `{"requestStatusPerDestination":[{"requestStatus":"SUCCESS"},{"requestStatus":"PROCESSING"}]}`,
			destOf: []int{0, 1},
		},
		{
			name:   "success",
			resp:   `{"requestStatusPerDestination":[{"requestStatus":"SUCCESS","eventsIngestionStatus":{"recordCount":"2"}}]}`,
			destOf: []int{0, 0},
			done:   true,
			want:   []string{"counted", "counted"},
		},
		{
			name: "partial success with indices",
			resp: `{"requestStatusPerDestination":[{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[
				{"reason":"PROCESSING_ERROR_REASON_EXPIRED_CLICK","recordCount":"1","recordIndices":[2]},
				{"reason":"PROCESSING_ERROR_REASON_CLICK_NOT_FOUND","recordCount":"1","recordIndices":[0]}]}}]}`,
			destOf: []int{0, 0, 0},
			done:   true,
			want:   []string{"rejected by Google: CLICK_NOT_FOUND", "counted", "rejected by Google: EXPIRED_CLICK"},
		},
		{
			name: "duplicate transaction id is counted",
			resp: `{"requestStatusPerDestination":[{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[
				{"reason":"PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID","recordCount":"1","recordIndices":[1]}]}}]}`,
			destOf: []int{0, 0},
			done:   true,
			want:   []string{"counted", "counted (DUPLICATE_TRANSACTION_ID); Google already had this conversion"},
		},
		{
			name: "counts without indices apply to all and say so",
			resp: `{"requestStatusPerDestination":[{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[
				{"reason":"PROCESSING_ERROR_REASON_INVALID_GCLID","recordCount":"1"}]}}]}`,
			destOf: []int{0, 0},
			done:   true,
			want: []string{
				"rejected by Google: INVALID_GCLID; Google counted 1 event(s) with this reason without naming which; applied to all 2 of the request",
				"rejected by Google: INVALID_GCLID; Google counted 1 event(s) with this reason without naming which; applied to all 2 of the request",
			},
		},
		{
			name:   "failed without reasons",
			resp:   `{"requestStatusPerDestination":[{"requestStatus":"FAILED"}]}`,
			destOf: []int{0},
			done:   true,
			want:   []string{"rejected by Google: FAILED; Google failed the request without a reason for this event"},
		},
		{
			name: "two destinations, indices are positions in events[]",
			resp: `{"requestStatusPerDestination":[
				{"requestStatus":"SUCCESS"},
				{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[{"reason":"PROCESSING_ERROR_REASON_EVENT_TOO_OLD","recordCount":"1","recordIndices":[3]}]}}]}`,
			destOf: []int{0, 1, 0, 1},
			done:   true,
			want:   []string{"counted", "counted", "counted", "rejected by Google: EVENT_TOO_OLD"},
		},
		{
			name: "an index of an event not followed is ignored",
			resp: `{"requestStatusPerDestination":[
				{"requestStatus":"SUCCESS"},
				{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[{"reason":"PROCESSING_ERROR_REASON_EVENT_TOO_OLD","recordCount":"2","recordIndices":[1,3]}]}}]}`,
			destOf: []int{0, -1, 1, 1},
			done:   true,
			want:   []string{"counted", "awaiting", "counted", "rejected by Google: EVENT_TOO_OLD"},
		},
		{
			name: "an index beyond the events followed is ignored",
			resp: `{"requestStatusPerDestination":[
				{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[{"reason":"PROCESSING_ERROR_REASON_EVENT_TOO_OLD","recordCount":"1","recordIndices":[2]}]}}]}`,
			destOf: []int{0, 0},
			done:   true,
			want:   []string{"counted", "counted"},
		},
		{
			name: "index of another destination's event",
			resp: `{"requestStatusPerDestination":[
				{"requestStatus":"SUCCESS"},
				{"requestStatus":"FAILED","errorInfo":{"errorCounts":[{"reason":"PROCESSING_ERROR_REASON_EVENT_TOO_OLD","recordIndices":[0]}]}}]}`,
			destOf:  []int{0, 1},
			wantErr: "not an event of destination 1",
		},
		{
			name:    "fewer statuses than destinations",
			resp:    `{"requestStatusPerDestination":[{"requestStatus":"SUCCESS"}]}`,
			destOf:  []int{0, 1},
			wantErr: "Google reported 1 destinations",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, done, err := Read(status(t, tt.resp), tt.destOf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if done != tt.done {
				t.Fatalf("done = %v, want %v", done, tt.done)
			}
			if !done {
				if got != nil {
					t.Fatalf("verdicts before done: %v", got)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d verdicts, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if s := got[i].String(); s != tt.want[i] {
					t.Errorf("event %d: %q, want %q", i, s, tt.want[i])
				}
				if tt.destOf[i] >= 0 && !got[i].Outcome.Final() {
					t.Errorf("event %d: outcome %q is not final", i, got[i].Outcome)
				}
			}
		})
	}
}
