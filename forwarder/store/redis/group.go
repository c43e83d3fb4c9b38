package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// maxGroup bounds the script runs of one pipeline, so that a burst is
// sent in steps rather than as one request the size of the burst.
const maxGroup = 256

// grouper sends the script runs of concurrent callers (the Accepts of
// webhooks that arrive together) to Redis together: one pipeline, so one
// round trip, one read and one write of the socket on each side, and one
// append to the server's AOF, for as many runs as queued up meanwhile.
// Each script still runs alone and atomically on the server; grouping
// changes only how the runs travel. Like the embedded store's committer
// it waits no fixed delay: a lone run is sent at once, and under load each
// pipeline takes everything that queued up while the one before was on
// the wire.
type grouper struct {
	rdb goredis.UniversalClient
	// off sends every run on its own (the baseline of the benchmarks).
	off bool

	mu      sync.Mutex
	queue   []*groupRun
	leading bool // a goroutine is sending the queue
}

// groupRun is one script run waiting for its pipeline.
type groupRun struct {
	ctx    context.Context
	script *goredis.Script
	keys   []string
	args   []any
	res    any
	err    error
	done   chan struct{}
}

// run runs script as script.Run does, in a pipeline shared with the runs
// that queued up with it, and returns its result.
func (g *grouper) run(ctx context.Context, script *goredis.Script, keys []string, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g.off {
		return script.Run(ctx, g.rdb, keys, args...).Result()
	}
	r := &groupRun{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		g.lead()
	}
	<-r.done
	return r.res, r.err
}

// lead sends the queued runs in one pipeline. When more runs queued up
// meanwhile, a new goroutine leads their pipeline, so that the caller
// returns as soon as its own run is answered.
func (g *grouper) lead() {
	g.mu.Lock()
	rs := g.queue
	if len(rs) > maxGroup {
		rs, g.queue = rs[:maxGroup:maxGroup], rs[maxGroup:]
	} else {
		g.queue = nil
	}
	g.mu.Unlock()
	g.send(rs)
	g.mu.Lock()
	more := len(g.queue) > 0
	g.leading = more
	g.mu.Unlock()
	if more {
		go g.lead()
	}
}

// send runs rs in one pipeline of EVALSHA. A run the server answers
// NOSCRIPT (its script not loaded yet, or flushed) is run again with
// script.Run, which loads the script. A lone run is sent as is.
func (g *grouper) send(rs []*groupRun) {
	defer func() {
		for _, r := range rs {
			close(r.done)
		}
	}()
	if len(rs) == 1 {
		r := rs[0]
		r.res, r.err = r.script.Run(r.ctx, g.rdb, r.keys, r.args...).Result()
		return
	}
	// The runs were asked for under their callers' contexts; the pipeline
	// carries them all, so it must not fail because one caller gave up.
	// The client's own timeouts bound it.
	ctx := context.WithoutCancel(rs[0].ctx)
	pipe := g.rdb.Pipeline()
	cmds := make([]*goredis.Cmd, len(rs))
	for i, r := range rs {
		cmds[i] = r.script.EvalSha(ctx, pipe, r.keys, r.args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, r := range rs {
		r.res, r.err = cmds[i].Result()
		if goredis.HasErrorPrefix(r.err, "NOSCRIPT") {
			r.res, r.err = r.script.Run(ctx, g.rdb, r.keys, r.args...).Result()
		}
	}
}
