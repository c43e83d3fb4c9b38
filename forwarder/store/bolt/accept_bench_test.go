package bolt_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/webhook"
	"github.com/callforward/callforward/mapping"
)

// BenchmarkAcceptSampleParallel is BenchmarkAcceptParallel with the
// benchmark call (examples/webhooks/answered-with-gclid.form) and the
// seven deliveries bench/rules10.yaml plans for it, what intake stores
// under the load benchmarks.
func BenchmarkAcceptSampleParallel(b *testing.B) {
	data, err := os.ReadFile("../../../examples/webhooks/answered-with-gclid.form")
	if err != nil {
		b.Fatal(err)
	}
	params, err := webhook.Params("POST", "application/x-www-form-urlencoded", "", bytes.TrimSpace(data))
	if err != nil {
		b.Fatal(err)
	}
	model, err := webhook.Decode(params)
	if err != nil {
		b.Fatal(err)
	}
	rules, err := mapping.Load("../../../bench/rules10.yaml")
	if err != nil {
		b.Fatal(err)
	}
	planned := rules.Evaluate(model)
	if len(planned) != 7 {
		b.Fatalf("the benchmark rules plan %d deliveries, want 7", len(planned))
	}
	s := open(b, filepath.Join(b.TempDir(), "forwarder.db"), store.Options{})
	ctx := b.Context()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			call := *model
			call.Sid = fmt.Sprintf("CA%032d", n.Add(1))
			ds := make([]forwarder.Delivery, len(planned))
			for i, d := range planned {
				d.ID, d.CallSid = call.Sid+strings.TrimPrefix(d.ID, model.Sid), call.Sid
				ds[i] = d
			}
			if err := s.Accept(ctx, &call, ds); err != nil {
				b.Errorf("Accept = %v", err)
				return
			}
		}
	})
}
