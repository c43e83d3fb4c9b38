package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// AckPolled acknowledges jobs as AckMany does and, in the same
// transaction, records p with the items whose job it acknowledged (none:
// no poll), due at p.DueAt and unclaimed. Each acknowledged job of the
// poll remembers p.RequestID, so that ResolvePoll judges whether the job
// is still done by that request. A p without RequestID records no poll;
// a zero SentAt or DueAt stands for now. A poll of the same RequestID
// already pending is replaced.
func (s *Store) AckPolled(ctx context.Context, jobs []store.Job, p store.Poll) []error {
	var inPoll map[string]bool
	if p.RequestID != "" {
		inPoll = make(map[string]bool, len(p.Items))
		for _, it := range p.Items {
			inPoll[it.DeliveryID] = true
		}
	}
	// A done job keeps only what is still read of its delivery
	// (store.DoneDelivery), encoded here, before the write transaction;
	// one in the poll keeps its payload until ResolvePoll.
	done := make([][]byte, len(jobs))
	for i, j := range jobs {
		if inPoll[j.Delivery.ID] {
			continue
		}
		v, err := store.EncodeDoneDelivery(j.Delivery)
		if err != nil {
			errs := make([]error, len(jobs))
			for k, j := range jobs {
				errs[k] = fmt.Errorf("bolt: ack %s: %w", j.Delivery.ID, err)
			}
			return errs
		}
		done[i] = v
	}
	prepare := func(now time.Time) []prepared { return ackPrepared(jobs, done, p.RequestID, now) }
	return s.settle(ctx, "ack", jobs, prepare, func(b buckets, i int, id string, rec *rawRecord, now time.Time) error {
		rec.State = store.JobDone
		rec.Settled = now
		rec.Request = ""
		if inPoll[id] {
			rec.Request = p.RequestID
		}
		if done[i] != nil {
			rec.Job.Delivery = done[i]
		}
		return nil // the record goes into the done index (putJobValue)
	}, func(b buckets, lost []bool, now time.Time) error {
		if inPoll == nil {
			return nil
		}
		acked := make(map[string]bool, len(jobs))
		for i, j := range jobs {
			if !lost[i] && inPoll[j.Delivery.ID] {
				acked[j.Delivery.ID] = true
			}
		}
		q := p
		q.Items, q.Lease = nil, ""
		if q.SentAt.IsZero() {
			q.SentAt = now
		}
		if q.DueAt.IsZero() {
			q.DueAt = now
		}
		for _, it := range p.Items {
			if acked[it.DeliveryID] {
				q.Items = append(q.Items, it)
			}
		}
		if len(q.Items) == 0 {
			return nil
		}
		if old, ok, err := getPoll(b, q.RequestID); err != nil {
			return err
		} else if ok {
			if err := unindexPoll(b, old); err != nil {
				return err
			}
		}
		return putPoll(b, q)
	})
}

// ClaimPolls hands out up to max polls due now, oldest due first, each
// under a fresh lease that ends after store.Options.Lease: its Lease is a
// new random token and its DueAt the end of the lease, so a poll that is
// never rescheduled nor resolved becomes due again by itself. max <= 0
// claims nothing.
func (s *Store) ClaimPolls(ctx context.Context, max int) ([]store.Poll, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: claim polls: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	now := s.opts.Now()
	leaseEnd, nowKey := now.Add(s.opts.Lease), encodeTime(now)
	var claimed []store.Poll
	err := s.commits.update(func(tx *bbolt.Tx) error {
		claimed = nil
		b := bucketsOf(tx)
		var ids []string
		c := b.pollsDue.Cursor()
		for k, _ := c.First(); k != nil && len(ids) < max; k, _ = c.Next() {
			if bytes.Compare(k[:timeLen], nowKey) > 0 {
				break
			}
			ids = append(ids, keyID(k))
		}
		for _, id := range ids {
			p, ok, err := getPoll(b, id)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("due poll %s has no record", id)
			}
			if err := unindexPoll(b, p); err != nil {
				return err
			}
			p.Lease, p.DueAt = rand.Text(), leaseEnd
			if err := putPoll(b, p); err != nil {
				return err
			}
			claimed = append(claimed, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: claim polls: %w", err)
	}
	return claimed, nil
}

// ReschedulePoll stores p's Polls, LastPoll and LastAnswer and makes the
// poll due at due, unclaimed. It returns store.ErrLeaseLost when p.Lease
// is not the poll's current lease (also when the poll is resolved).
func (s *Store) ReschedulePoll(ctx context.Context, p store.Poll, due time.Time) error {
	return s.updatePoll(ctx, "reschedule poll", p, func(b buckets, cur store.Poll, _ time.Time) error {
		cur.Polls, cur.LastPoll, cur.LastAnswer = p.Polls, p.LastPoll, p.LastAnswer
		cur.DueAt, cur.Lease = due, ""
		return putPoll(b, cur)
	})
}

// ResolvePoll records verdicts[i] on the job of p.Items[i] when that job
// is still done by the request polled (not re-planned nor accepted anew
// since); a rejected delivery becomes a dead letter of kind
// store.DeadProcessing at now, with reason store.ProcessingReason and
// Google's reason as code. A verdict without outcome records nothing.
// The poll is forgotten. It returns store.ErrLeaseLost when p.Lease is not
// the poll's current lease; verdicts must be as many as p.Items.
func (s *Store) ResolvePoll(ctx context.Context, p store.Poll, verdicts []forwarder.Verdict) error {
	if len(verdicts) != len(p.Items) {
		return fmt.Errorf("bolt: resolve poll %s: %d verdicts for %d items", p.RequestID, len(verdicts), len(p.Items))
	}
	return s.updatePoll(ctx, "resolve poll", p, func(b buckets, cur store.Poll, now time.Time) error {
		for i, it := range p.Items {
			if err := settleVerdict(b, it.DeliveryID, cur.RequestID, verdicts[i], now); err != nil {
				return err
			}
		}
		return b.polls.Delete([]byte(cur.RequestID))
	})
}

// settleVerdict records v on the job id if it is done by request. A job
// that stays done keeps only what is still read of its delivery
// (store.DoneDelivery), verdict or not: with the poll gone, nothing can
// make it a dead letter any more.
func settleVerdict(b buckets, id, request string, v forwarder.Verdict, now time.Time) error {
	rec, ok, err := getRecord(b, id)
	if err != nil || !ok || rec.State != store.JobDone || rec.Request != request {
		return err
	}
	if v.Outcome != "" {
		rec.Job.Verdict = &v
	}
	if v.Outcome != forwarder.OutcomeRejected {
		return putDoneRecord(b, rec)
	}
	doneKey := timeKey(rec.Settled, id)
	rec.State, rec.Settled, rec.Kind = store.JobDead, now, store.DeadProcessing
	rec.Reason, rec.Code = store.ProcessingReason(v), v.Reason
	rec.Job.LastError = rec.Reason
	if err := b.dead.Put(timeKey(now, id), nil); err != nil {
		return fmt.Errorf("put dead %s: %w", id, err)
	}
	// Writing the dead record over the done mark takes the done record
	// off the done index; a done record an earlier release wrote left its
	// key there, empty.
	if err := putRecord(b, rec); err != nil {
		return err
	}
	if err := b.done.Delete(doneKey); err != nil {
		return fmt.Errorf("delete done key %s: %w", id, err)
	}
	return nil
}

// updatePoll checks p's lease and hands the stored poll, taken off its
// indexes, to apply, in one transaction.
func (s *Store) updatePoll(ctx context.Context, op string, p store.Poll, apply func(b buckets, cur store.Poll, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s %s: %w", op, p.RequestID, err)
	}
	now := s.opts.Now()
	var lost bool
	err := s.commits.update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		cur, ok, err := getPoll(b, p.RequestID)
		lost = err == nil && (!ok || cur.Lease == "" || cur.Lease != p.Lease)
		if err != nil || lost {
			return err
		}
		if err := unindexPoll(b, cur); err != nil {
			return err
		}
		return apply(b, cur, now)
	})
	if err != nil {
		return fmt.Errorf("bolt: %s %s: %w", op, p.RequestID, err)
	}
	if lost {
		return fmt.Errorf("bolt: %s %s: %w", op, p.RequestID, store.ErrLeaseLost)
	}
	return nil
}

// PollStats counts the pending polls (claimed ones included) and finds
// the oldest SentAt among them.
func (s *Store) PollStats(ctx context.Context) (store.PollStats, error) {
	if err := ctx.Err(); err != nil {
		return store.PollStats{}, fmt.Errorf("bolt: poll stats: %w", err)
	}
	var st store.PollStats
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		st = store.PollStats{Pending: b.polls.Stats().KeyN}
		if k, _ := b.pollsSent.Cursor().First(); len(k) >= timeLen {
			st.OldestSentAt = decodeTime(k).UTC()
		}
		return nil
	})
	if err != nil {
		return store.PollStats{}, fmt.Errorf("bolt: poll stats: %w", err)
	}
	return st, nil
}

// releasePollLeases makes every claimed poll due at now: its claim
// belonged to a process that is gone (see releaseLeases).
func releasePollLeases(b buckets, now time.Time) error {
	var claimed []store.Poll
	c := b.pollsDue.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		p, ok, err := getPoll(b, keyID(k))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("due poll %s has no record", keyID(k))
		}
		if p.Lease != "" {
			claimed = append(claimed, p)
		}
	}
	for _, p := range claimed {
		if err := unindexPoll(b, p); err != nil {
			return err
		}
		p.Lease, p.DueAt = "", now
		if err := putPoll(b, p); err != nil {
			return err
		}
	}
	return nil
}

// getPoll reads the poll of request id; ok is false when there is none.
func getPoll(b buckets, id string) (p store.Poll, ok bool, err error) {
	v := b.polls.Get([]byte(id))
	if v == nil {
		return store.Poll{}, false, nil
	}
	if err := json.Unmarshal(v, &p); err != nil {
		return store.Poll{}, false, fmt.Errorf("decode poll %s: %w", id, err)
	}
	return p, true, nil
}

// putPoll writes p with its index entries.
func putPoll(b buckets, p store.Poll) error {
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode poll %s: %w", p.RequestID, err)
	}
	if err := b.polls.Put([]byte(p.RequestID), v); err != nil {
		return fmt.Errorf("put poll %s: %w", p.RequestID, err)
	}
	if err := b.pollsDue.Put(timeKey(p.DueAt, p.RequestID), nil); err != nil {
		return fmt.Errorf("put poll due %s: %w", p.RequestID, err)
	}
	if err := b.pollsSent.Put(timeKey(p.SentAt, p.RequestID), nil); err != nil {
		return fmt.Errorf("put poll sent %s: %w", p.RequestID, err)
	}
	return nil
}

// unindexPoll deletes the index entries of the stored poll p.
func unindexPoll(b buckets, p store.Poll) error {
	if err := b.pollsDue.Delete(timeKey(p.DueAt, p.RequestID)); err != nil {
		return fmt.Errorf("delete poll due %s: %w", p.RequestID, err)
	}
	if err := b.pollsSent.Delete(timeKey(p.SentAt, p.RequestID)); err != nil {
		return fmt.Errorf("delete poll sent %s: %w", p.RequestID, err)
	}
	return nil
}

// ackPrepared returns the done records that AckPolled's settlement makes
// of jobs claimed and acknowledged under the same lease, encoded and
// compressed before the transaction (see Store.settle): with the delivery
// done[i] when it is not nil, and otherwise, for a job in the poll of
// request, with the delivery it was stored with, which the job in hand
// encodes to again (Accept wrote it with store.AppendJob). settle writes
// a prepared value only when the record read in the transaction agrees
// with it byte for byte, and encodes the record read otherwise.
func ackPrepared(jobs []store.Job, done [][]byte, request string, now time.Time) []prepared {
	out := make([]prepared, len(jobs))
	values := make([]*[]byte, 0, len(jobs))
	for i, j := range jobs {
		delivery, req := done[i], ""
		if delivery == nil {
			d, err := store.AppendDelivery(nil, &j.Delivery)
			if err != nil {
				continue // encoded in the transaction, from the record read
			}
			delivery, req = d, request
		}
		rec := rawRecord{
			Job: rawJob{
				Delivery: delivery, Attempts: j.Attempts + 1, DueAt: j.DueAt, LastError: j.LastError,
				History: store.BoundHistory(j.History), Verdict: j.Verdict,
			},
			State: store.JobDone, Settled: now, Request: req,
		}
		if v, err := encodeRawRecord(rec); err == nil {
			out[i] = prepared{rec: rec, value: jobValue([]byte(j.Delivery.ID), rec.State, v)}
			values = append(values, &out[i].value)
		}
	}
	compressEach(values)
	return out
}
