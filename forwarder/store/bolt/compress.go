package bolt

import (
	"runtime"
	"sync"
)

// Compression runs on goroutines of its own, the compressors. S2's
// dictionary encoder keeps a 64 KiB hash table on the stack of the
// goroutine that calls it, so every goroutine that compressed a record
// grew a stack of 128 KiB: under intake, each connection's goroutine (a
// webhook compresses its call and each of its jobs), and each delivery
// worker. The collector shrinks an idle goroutine's stack, and the next
// record grew it again, copying every frame of a deep request stack: 4%
// of the embedded intake's CPU in its profile, and 9 MiB of stacks at 64
// connections. The compressors, one per processor, each keep the one
// large stack instead, and their stacks are shallow.
//
// A caller hands work over with compress, once for all the values it has
// (a webhook's call and jobs, a claim's records: compressEach), so the
// hand-over costs little against the compressing. compressValue runs only
// on a compressor; nothing it calls hands work over, so a compressor never
// waits for another.

// compressChunk is the most values one hand-over compresses, so that a
// claim of thousands of records does not hold a compressor away from a
// webhook's for long (about 2 µs a value).
const compressChunk = 64

// compressors are the goroutines compression runs on, started on first
// use and kept for the life of the process.
var compressors struct {
	start sync.Once
	work  chan *compression
}

// compression is one hand-over to a compressor.
type compression struct {
	fn   func()
	done chan any // the value fn panicked with, or nil
}

// compressions are reused hand-overs.
var compressions = sync.Pool{New: func() any { return &compression{done: make(chan any, 1)} }}

// startCompressors starts one compressor per processor.
func startCompressors() {
	compressors.work = make(chan *compression)
	for range max(1, runtime.GOMAXPROCS(0)) {
		go func() {
			for c := range compressors.work {
				c.done <- c.run()
			}
		}()
	}
}

// run runs c.fn and returns the value it panicked with, if it did.
func (c *compression) run() (panicked any) {
	defer func() { panicked = recover() }()
	c.fn()
	return nil
}

// compress runs fn on a compressor and returns when it has run. fn may
// call compressValue and must not call compress. A panic of fn is raised
// again in the caller's goroutine.
func compress(fn func()) {
	compressors.start.Do(startCompressors)
	c := compressions.Get().(*compression)
	c.fn = fn
	compressors.work <- c
	p := <-c.done
	c.fn = nil
	compressions.Put(c)
	if p != nil {
		panic(p)
	}
}

// compressEach replaces each value *v of vs (nil pointers skipped) by its
// stored form (compressValue), compressChunk values per hand-over.
func compressEach(vs []*[]byte) {
	for len(vs) > 0 {
		chunk := vs[:min(len(vs), compressChunk)]
		vs = vs[len(chunk):]
		compress(func() {
			for _, v := range chunk {
				if v != nil {
					*v = compressValue(*v)
				}
			}
		})
	}
}
