package redis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// TestClusterConformance runs the suite on a one-node Redis Cluster that
// serves every slot: a cluster server refuses a script that touches a
// key in another slot than the ones it declared, so this checks that the
// scripts declare their keys and that every key shares the hash tag.
func TestClusterConformance(t *testing.T) {
	srv := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	c := client(t, srv)
	if err := c.Do(t.Context(), "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE = %v", err)
	}
	// The node takes a moment to see its own slots: poll, bounded.
	var info string
	for range 200 {
		var err error
		if info, err = c.ClusterInfo(t.Context()).Result(); err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("cluster never came up: %s", info)
	}
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return open(t, srv.URL(), opts, redis.Options{Cluster: true, Prefix: uniquePrefix()})
	})
}
