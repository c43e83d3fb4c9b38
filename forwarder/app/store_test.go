package app

import (
	"testing"

	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestOpenStoreAbilities: the stores OpenStore opens have the abilities
// their consumers discover by a type assertion (batched acks for the
// workers, caller history for intake, commit recording for the embedded
// store's metrics, the embedded store's mapped-page keeper), asserted
// against the interfaces those consumers use.
func TestOpenStoreAbilities(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(t *testing.T) StoreConfig
		// commits is whether the store's commits can be observed.
		commits bool
		// mapped is whether Run starts a mapped-page keeper for it.
		mapped bool
	}{
		{"embedded", func(t *testing.T) StoreConfig { return StoreConfig{DataDir: t.TempDir()} }, true, true},
		{"redis", func(t *testing.T) StoreConfig { return StoreConfig{RedisURL: redistest.Start(t).URL()} }, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := OpenStore(t.Context(), tc.cfg(t))
			if err != nil {
				t.Fatalf("OpenStore = %v, want nil", err)
			}
			defer st.Close()
			var q deliver.Queue = st
			if _, ok := q.(deliver.BatchAcker); !ok {
				t.Error("the workers would not find batched acks")
			}
			var in ingest.Store = st
			if _, ok := in.(ingest.CallerHistory); !ok {
				t.Error("intake would not find the caller history")
			}
			if _, ok := st.(store.CommitObserver); ok != tc.commits {
				t.Errorf("commits observable = %v, want %v", ok, tc.commits)
			}
			if _, ok := st.(mappedKeeper); ok != tc.mapped {
				t.Errorf("mapped-page keeper = %v, want %v", ok, tc.mapped)
			}
		})
	}
}
