package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// The contract of package store, and each ability a consumer discovers by
// a type assertion, by name: a renamed method fails the build instead of
// switching the ability off.
var (
	_ store.Store         = (*Store)(nil)
	_ store.BatchAcker    = (*Store)(nil)
	_ store.CallerHistory = (*Store)(nil)
	_ store.Diagnostics   = (*Store)(nil)
	_ store.CallLister    = (*Store)(nil)
	_ store.Tallier       = (*Store)(nil)
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "callforward"

// ttlMargin is how long past the dedup window the keys that only hold
// expiring data live after their last write (see the package comment).
const ttlMargin = 24 * time.Hour

// Store is the Redis backend of package store. It is safe for concurrent
// use, and any number of Stores, in any number of processes, may share
// one Redis under the same prefix.
type Store struct {
	rdb  goredis.UniversalClient
	keys keys
	// intake sends the scripts of concurrent Accepts together (group.go).
	intake *grouper
	opts   store.Options
	// ttl is how long the expiring-only keys live after a write.
	ttl time.Duration
	// historyTTL is how long the caller history keys live after a write.
	historyTTL time.Duration
}

// Open connects to the Redis at url (redis://[user:password@]host:port[/db]
// or rediss:// for TLS, with the query parameters go-redis's ParseURL
// knows, such as dial_timeout) and checks that it answers; a store written before the tallies
// gets them counted (tally.go) before Open returns. The error
// names the host, never the password.
//
// For Sentinel set o.MasterName, for Cluster set o.Cluster; both take more
// node addresses in o.Addrs:
//
//	redis.Open(ctx, "redis://:secret@sentinel-1:26379/0", opts,
//		redis.Options{MasterName: "mymaster", Addrs: []string{"sentinel-2:26379"}})
//	redis.Open(ctx, "rediss://:secret@node-1:6379", opts,
//		redis.Options{Cluster: true, Addrs: []string{"node-2:6379", "node-3:6379"}})
func Open(ctx context.Context, url string, opts store.Options, o Options) (*Store, error) {
	rdb, where, err := newClient(url, o)
	if err != nil {
		return nil, fmt.Errorf("redis: open: %w", err)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis: open %s: %w", where, err)
	}
	prefix := o.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	opts = opts.WithDefaults()
	s := &Store{
		rdb:    rdb,
		keys:   newKeys(prefix),
		intake: &grouper{rdb: rdb},
		opts:   opts,
		ttl:    opts.DedupWindow + ttlMargin,

		historyTTL: opts.CallerHistory + ttlMargin,
	}
	if err := s.countLegacy(ctx); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis: open %s: %w", where, err)
	}
	return s, nil
}

// Close closes the connections to Redis.
func (s *Store) Close() error {
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// Ping reports whether the store can write: it sets a heartbeat key, so
// a read-only replica or a server out of memory fails it.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	err := s.rdb.Set(ctx, s.keys.heartbeat, encodeTime(s.opts.Now()), s.ttl).Err()
	if err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// run runs script with the store's keys and args, as EVALSHA falling
// back to EVAL when the server does not know the script yet.
func (s *Store) run(ctx context.Context, script *goredis.Script, keys []string, args ...any) (any, error) {
	return script.Run(ctx, s.rdb, keys, args...).Result()
}

// ms returns d in whole milliseconds, at least 1.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }
