package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/diagnose"
)

// receiptFake is a batchFake that answers each batch with a request id
// ("req-N", N counting batches) and each accepted delivery's positions:
// its index in the batch and, as destination, index%2.
type receiptFake struct{ batchFake }

func (r *receiptFake) SendBatchReceipts(ctx context.Context, ds []forwarder.Delivery) ([]error, []forwarder.Receipt) {
	errs := r.SendBatch(ctx, ds)
	r.mu.Lock()
	id := fmt.Sprintf("req-%d", len(r.batches))
	r.mu.Unlock()
	recs := make([]forwarder.Receipt, len(ds))
	for i := range ds {
		if errs[i] == nil {
			recs[i] = forwarder.Receipt{RequestID: id, Index: i, Dest: i % 2}
		}
	}
	return errs, recs
}

// TestReceiptsBecomePolls: the deliveries of an accepted request are
// acknowledged with the poll that will ask about them, due at the first
// poll of the schedule after the send, with each delivery's positions; the attempt names the
// request; a refused delivery is not in the poll.
func TestReceiptsBecomePolls(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, nil)
	var ids []string
	for i := range 5 {
		ids = append(ids, accept(t, st, fmt.Sprintf("CA%d", i), typeFake, "r")[0].ID)
	}
	refused := ids[3]
	sender := &receiptFake{batchFake{fail: map[string]error{refused: forwarder.Permanent("INVALID", errors.New("refused"))}}}
	const first = 50 * time.Millisecond
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 1, PollInterval: 2 * time.Millisecond, BatchWindow: 20 * time.Millisecond, Diagnostics: diagnose.Schedule{First: first},
	})
	before := time.Now()
	stop := start(t, d)
	settled(t, st)
	stop()

	if polls, err := st.ClaimPolls(context.Background(), 10); err != nil || len(polls) != 0 {
		t.Fatalf("polls claimed before their first wait: %+v, %v", polls, err)
	}
	time.Sleep(first)
	polls, err := st.ClaimPolls(context.Background(), 10)
	if err != nil {
		t.Fatalf("claim polls: %v", err)
	}
	batches, _ := sender.snapshot()
	if len(polls) != len(batches) {
		t.Fatalf("%d polls for %d batches: %+v", len(polls), len(batches), polls)
	}
	seen := map[string]bool{}
	for _, p := range polls {
		n, _ := strings.CutPrefix(p.RequestID, "req-")
		var b int
		if _, err := fmt.Sscan(n, &b); err != nil || b < 1 || b > len(batches) {
			t.Fatalf("poll of unknown request %q", p.RequestID)
		}
		batch := batches[b-1]
		if p.SentAt.Before(before) || p.Polls != 0 {
			t.Errorf("poll %s: sent at %v (test began %v), %d polls", p.RequestID, p.SentAt, before, p.Polls)
		}
		for _, it := range p.Items {
			i := slices.Index(batch, it.DeliveryID)
			if i < 0 || it.Index != i || it.Dest != i%2 || it.DeliveryID == refused {
				t.Errorf("poll %s: item %+v, batch %v", p.RequestID, it, batch)
			}
			seen[it.DeliveryID] = true
		}
	}
	for _, id := range ids {
		if seen[id] == (id == refused) {
			t.Errorf("delivery %s: in a poll %v", id, seen[id])
		}
		sid, _, _ := strings.Cut(id, "/")
		h := onlyJob(t, st, sid).Job.History
		if len(h) != 1 || (h[0].RequestID == "") != (id == refused) {
			t.Errorf("delivery %s: history %+v", id, h)
		}
	}
}
