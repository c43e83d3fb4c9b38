package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/redis"
)

// Store is everything the forwarder and its operator commands ask of a
// storage backend. Every backend in forwarder/store has all of it and
// passes the same conformance suite (forwarder/store/storetest).
type Store interface {
	Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error
	Reject(ctx context.Context, r store.Rejected) error
	Claim(ctx context.Context, max int) ([]store.Job, error)
	Ack(ctx context.Context, j store.Job) error
	// AckMany settles a batch's delivered jobs in one store operation; the
	// workers use it (deliver.BatchAcker), and listing it here makes every
	// backend provide it.
	AckMany(ctx context.Context, jobs []store.Job) []error
	Retry(ctx context.Context, j store.Job, at time.Time, reason string) error
	Bury(ctx context.Context, j store.Job, reason, code string) error
	// Extend keeps the leases of the jobs the workers hold (deliver.Queue).
	Extend(ctx context.Context, jobs []store.Job, d time.Duration) []error
	Ping(ctx context.Context) error
	Stats(ctx context.Context) (store.Stats, error)
	Sweep(ctx context.Context) (int, error)

	Call(ctx context.Context, sid string) (*forwarder.Call, error)
	Jobs(ctx context.Context, sid string) ([]store.JobInfo, error)
	CallSids(ctx context.Context, since time.Time, limit int) ([]string, error)
	Replan(ctx context.Context, sid string, deliveries []forwarder.Delivery) (int, error)
	PreviousCall(ctx context.Context, key string, before time.Time) (time.Time, bool, error)
	DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error)
	RetryDead(ctx context.Context, id string) error
	DropDead(ctx context.Context, id string) error
	RejectedRequests(ctx context.Context, limit int) ([]store.Rejected, error)

	Close() error
}

var (
	_ Store = (*bolt.Store)(nil)
	_ Store = (*redis.Store)(nil)
)

// commitRecording is a store whose transactions can be observed (the
// embedded store: metrics then show its group commits).
type commitRecording interface {
	RecordCommits(bolt.CommitRecorder)
}

var _ commitRecording = (*bolt.Store)(nil)

// StoreConfig selects and tunes the backend.
type StoreConfig struct {
	DataDir     string        // embedded store directory (when RedisURL is empty)
	RedisURL    string        // redis:// or rediss:// URL: use the shared Redis store
	Redis       redis.Options // key prefix, Sentinel master name, Cluster
	DedupWindow time.Duration // how long a Call.Sid is remembered
	Lease       time.Duration // claim lease
}

// OpenStore opens the backend cfg names: the shared Redis store when
// RedisURL is set, else the embedded bbolt store in DataDir.
func OpenStore(ctx context.Context, cfg StoreConfig) (Store, error) {
	opts := store.Options{DedupWindow: cfg.DedupWindow, Lease: cfg.Lease}
	if cfg.RedisURL != "" {
		st, err := redis.Open(ctx, cfg.RedisURL, opts, cfg.Redis)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	st, err := bolt.Open(filepath.Join(cfg.DataDir, "callforward.db"), opts)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// StoreConfig returns the store part of c.
func (c Config) StoreConfig() StoreConfig {
	return c.Store
}
