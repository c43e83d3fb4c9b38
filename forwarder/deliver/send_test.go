package deliver_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
)

// TestOneSendPath: a sender that sends one delivery at a time (UA's)
// goes the way of a batch sender: its deliveries are sent only within
// their lease, and acknowledged with AckMany.
func TestOneSendPath(t *testing.T) {
	t.Parallel()
	const typeSingle = "single"
	tests := []struct {
		name        string
		lease       time.Duration
		sendTimeout time.Duration
		wantSent    int
		wantOutcome string
	}{
		{"acknowledged with AckMany", time.Minute, time.Second, 1, "delivered"},
		{"not sent past its lease", 50 * time.Millisecond, time.Second, 0, "lease_lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := &ackQueue{countingQueue: openStore(t, tt.lease, time.Now), forge: "none"}
			accept(t, q.countingQueue, "CA-single", typeSingle, "r")
			accept(t, q.countingQueue, "CA-batch", typeFake, "r")
			var singles atomic.Int64
			batch := &batchFake{}
			rec := &outcomes{by: map[string]string{}}
			d := deliver.New(q, map[string]deliver.Sender{
				typeSingle: deliver.SenderFunc(func(context.Context, forwarder.Delivery) error {
					singles.Add(1)
					return nil
				}),
				typeFake: batch,
			}, deliver.Config{
				Workers: 2, PollInterval: time.Millisecond, BatchWindow: time.Millisecond,
				SendTimeout: tt.sendTimeout, Recorder: rec,
			})
			stop := start(t, d)
			waitFor(t, "both deliveries "+tt.wantOutcome, func() (bool, string) {
				n := rec.count()
				return n[tt.wantOutcome] == 2, fmt.Sprint(n)
			})
			stop()
			_, sent := batch.snapshot()
			if got := int(singles.Load()); got != tt.wantSent || len(sent) != tt.wantSent {
				t.Errorf("sent %d by the single sender and %d by the batch sender, want %d each", got, len(sent), tt.wantSent)
			}
			if n := q.acks.Load(); n != 0 {
				t.Errorf("%d Acks, want every delivery acknowledged with AckMany", n)
			}
			if n := q.ackManyJobs.Load(); n != int64(2*tt.wantSent) {
				t.Errorf("%d jobs acknowledged with AckMany, want %d", n, 2*tt.wantSent)
			}
		})
	}
}
