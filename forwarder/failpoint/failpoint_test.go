package failpoint_test

import (
	"maps"
	"testing"

	"github.com/callforward/callforward/forwarder/failpoint"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		want    map[string]int64
		wantErr bool
	}{
		{spec: "", want: map[string]int64{}},
		{spec: " , ", want: map[string]int64{}},
		{spec: "mid-batch=3", want: map[string]int64{"mid-batch": 3}},
		{
			spec: "after-accept-before-reply=25, after-send-before-commit = 40,mid-batch=3",
			want: map[string]int64{"after-accept-before-reply": 25, "after-send-before-commit": 40, "mid-batch": 3},
		},
		{spec: "mid-batch", wantErr: true},
		{spec: "=3", wantErr: true},
		{spec: "mid-batch=0", wantErr: true},
		{spec: "mid-batch=-1", wantErr: true},
		{spec: "mid-batch=three", wantErr: true},
		{spec: "mid-batch=1,mid-batch=2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := failpoint.Parse(tt.spec)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tt.spec, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}
