package store_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
	"github.com/callforward/callforward/forwarder/webhook"
	"github.com/callforward/callforward/mapping"
)

// benchIntake is the benchmark call (examples/webhooks/answered-with-gclid.form)
// and the seven deliveries bench/rules10.yaml plans for it.
func benchIntake(b *testing.B) (*forwarder.Call, []forwarder.Delivery) {
	b.Helper()
	data, err := os.ReadFile("../../examples/webhooks/answered-with-gclid.form")
	if err != nil {
		b.Fatal(err)
	}
	params, err := webhook.Params("POST", "application/x-www-form-urlencoded", "", bytes.TrimSpace(data))
	if err != nil {
		b.Fatal(err)
	}
	call, err := webhook.Decode(params)
	if err != nil {
		b.Fatal(err)
	}
	rules, err := mapping.Load("../../bench/rules10.yaml")
	if err != nil {
		b.Fatal(err)
	}
	ds := rules.Evaluate(call)
	if len(ds) != 7 {
		b.Fatalf("the benchmark rules plan %d deliveries, want 7", len(ds))
	}
	return call, ds
}

// BenchmarkIntakeEncoding encodes what Accept stores for the benchmark
// call: the call and a pending job per delivery, by encoding/json and by
// the encoders.
func BenchmarkIntakeEncoding(b *testing.B) {
	call, ds := benchIntake(b)
	due := time.Now()
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(call); err != nil {
				b.Fatal(err)
			}
			for _, d := range ds {
				if _, err := json.Marshal(store.Job{Delivery: d, DueAt: due}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, err := store.AppendCall(make([]byte, 0, 1536+640*len(ds)), call)
			if err != nil {
				b.Fatal(err)
			}
			for i := range ds {
				if buf, err = store.AppendJob(buf, &store.Job{Delivery: ds[i], DueAt: due}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkEncodeCall and BenchmarkEncodeJob compare one value's encoding.
func BenchmarkEncodeCall(b *testing.B) {
	call, _ := benchIntake(b)
	storetest.BenchEncoding(b,
		func() ([]byte, error) { return json.Marshal(call) },
		func(buf []byte) ([]byte, error) { return store.AppendCall(buf, call) })
}

func BenchmarkEncodeJob(b *testing.B) {
	_, ds := benchIntake(b)
	j := &store.Job{Delivery: ds[1], DueAt: time.Now()}
	storetest.BenchEncoding(b,
		func() ([]byte, error) { return json.Marshal(j) },
		func(buf []byte) ([]byte, error) { return store.AppendJob(buf, j) })
}
