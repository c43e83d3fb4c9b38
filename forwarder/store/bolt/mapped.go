package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The memory-mapped file. bbolt reads the database through a read-only
// shared mapping of the whole file, so every page a transaction has read
// (a B-tree's branches, the jobs claimed, the records settled) stays in
// the process's resident set as file-backed memory until the kernel needs
// the memory back: a store written at a few thousand calls a second reads
// tens of MiB of fresh pages a second, and an idle forwarder keeps every
// page its last backlog touched. Those pages are the page cache's, shared
// and clean; the kernel reclaims them under pressure, but they count in
// RSS, in a container's memory usage and in its limit's accounting.
//
// ReleaseMapped drops them from the process's page tables (madvise
// MADV_DONTNEED on the mapped range): the pages stay in the page cache,
// and the next read of one is a minor fault, a page-table update with no
// disk read. KeepMappedLow calls it whenever the file-backed RSS has grown
// by mappedGrowth since the last release (it looks after each write
// transaction, at most every mappedCheck, and every mappedIdleCheck
// otherwise), and once the growth has settled (unchanged for
// mappedQuiet), so that an idle process keeps none of the file it read
// while busy.
//
// A look after a write transaction reads the file-backed RSS (about 10µs:
// /proc/self/statm opened, read, parsed and closed) only when enough has
// been written since the previous read for the growth to have reached
// mappedGrowth: the pages a write transaction reads are mostly those it
// writes anew (bbolt copies the path from the root to each key it
// changes), and the pages that later reads map are mostly those written.
// The bytes written are bbolt's own count (the pages its transactions
// allocated, DB.Stats; asking costs about 20ns). What reads map beyond
// that (a read transaction's pages above all) the look every
// mappedIdleCheck sees, as when nothing is written: it reads the
// file-backed RSS whatever was written.

// mappedCheck is the shortest time between two looks at the file-backed
// RSS: after a write transaction, KeepMappedLow looks again no sooner.
const mappedCheck = 25 * time.Millisecond

// mappedIdleCheck is how often KeepMappedLow looks at the file-backed RSS
// when nothing is written (reads alone: console pages, lookups).
const mappedIdleCheck = 250 * time.Millisecond

// mappedGrowth is the growth of the file-backed RSS since the last
// release at which KeepMappedLow releases the mapped pages again: under
// load, the mapping holds at most this much more than the pages that
// stay hot, plus what is read in one mappedCheck.
const mappedGrowth = 8 << 20

// mappedQuiet is how long the file-backed RSS must stay unchanged, above
// its level after the last release, before KeepMappedLow releases once
// more: the pages read by the last work of a busy spell, or by a lone
// read (a console page), do not stay.
const mappedQuiet = time.Second

// ReleaseMapped tells the kernel that the process no longer needs the
// pages of the database file it has mapped (madvise MADV_DONTNEED on the
// mapped range), so they leave its resident set. Nothing is lost or
// written: the mapping is read-only and shared, the pages stay in the page
// cache, and a later read of one is a minor fault. It is a no-op on
// systems other than Linux.
//
// It is safe at any time, concurrently with any use of the store: it runs
// in a read transaction, which holds bbolt's mapping lock shared, so the
// file cannot be remapped (bbolt remaps it when the file grows, under the
// lock held exclusively) while the call runs; and it advises only the
// pages of the file as that transaction sees it, which the mapping always
// covers. Other transactions may read the pages meanwhile: they fault them
// back in.
func (s *Store) ReleaseMapped() error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		return releaseMapped(s.db.Info().Data, tx.Size())
	})
	if err != nil {
		return fmt.Errorf("bolt: release mapped pages: %w", err)
	}
	return nil
}

// KeepMappedLow keeps the database file's pages out of the process's
// resident set until ctx is done. It releases them (ReleaseMapped) once
// when it starts, then looks at the process's file-backed RSS after write
// transactions (at most every mappedCheck, and only once enough has been
// written for it to have grown by mappedGrowth) and every
// mappedIdleCheck, and releases them again when that RSS has grown by
// mappedGrowth since the last release, or has stayed above that level,
// unchanged, for mappedQuiet. It returns at once where the file-backed
// RSS cannot be read (systems other than Linux), and when the store is
// closed.
func (s *Store) KeepMappedLow(ctx context.Context) {
	s.keepMapped(ctx, keeperConfig{
		check: mappedCheck, idle: mappedIdleCheck, growth: mappedGrowth, quiet: mappedQuiet, rss: fileRSS,
	})
}

// keeperConfig is what keepMapped runs with: KeepMappedLow's constants
// and fileRSS, or a test's.
type keeperConfig struct {
	check, idle time.Duration // mappedCheck, mappedIdleCheck
	growth      uint64        // mappedGrowth
	quiet       time.Duration // mappedQuiet
	rss         func() (uint64, bool)
}

// keepMapped is KeepMappedLow with the timings, the growth and the reader
// of the file-backed RSS of c.
func (s *Store) keepMapped(ctx context.Context, c keeperConfig) {
	if _, ok := c.rss(); !ok {
		return
	}
	// What opening the store read (the leases released, the tallies
	// counted) goes first.
	if err := s.ReleaseMapped(); err != nil {
		return
	}
	written := s.written()
	rss, ok := c.rss()
	if !ok {
		return
	}
	k := mappedKeeper{growth: c.growth, quiet: c.quiet, base: rss, last: rss, changed: time.Now(), written: written}
	idle := time.NewTicker(c.idle)
	defer idle.Stop()
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		var wrote bool
		select {
		case <-ctx.Done():
			return
		case <-s.commits.wrote:
			wrote = true
		case <-idle.C:
		}
		// The count is taken before the RSS is read: pages written
		// meanwhile count towards the next look.
		written := s.written()
		if !wrote || k.due(written) {
			if rss, ok := c.rss(); ok && k.tick(rss, written, time.Now()) {
				if err := s.ReleaseMapped(); err != nil {
					return // the store is closed
				}
				written := s.written()
				if rss, ok := c.rss(); ok {
					k.released(rss, written, time.Now())
				}
			}
		}
		pause.Reset(c.check)
		select {
		case <-ctx.Done():
			return
		case <-pause.C:
		}
	}
}

// written returns the bytes of the pages the store's write transactions
// have allocated so far (bbolt's count, DB.Stats): the pages of the
// B-trees and of the freelist they wrote.
func (s *Store) written() uint64 {
	st := s.db.Stats()
	return uint64(st.TxStats.GetPageAlloc())
}

// mappedKeeper decides, from the file-backed RSS read at each look, when
// to release the mapped pages, and, from the bytes written, when a look
// after a write transaction needs to read it.
type mappedKeeper struct {
	growth  uint64        // growth since the last release that releases
	quiet   time.Duration // how long unchanged above base releases
	base    uint64        // file-backed RSS right after the last release
	last    uint64        // file-backed RSS at the previous look
	changed time.Time     // when last was first seen
	written uint64        // bytes written (Store.written) when last was read
}

// due reports whether the bytes written so far (a count that only grows)
// are enough, since the file-backed RSS was last read, for it to have
// grown by k.growth since the last release, were every page written then
// mapped.
func (k *mappedKeeper) due(written uint64) bool {
	return written-k.written >= k.growth-min(k.last-k.base, k.growth)
}

// tick takes the file-backed RSS at now, read when written bytes had been
// written, and reports whether to release.
func (k *mappedKeeper) tick(rss, written uint64, now time.Time) bool {
	k.written = written
	if rss != k.last {
		k.last, k.changed = rss, now
	}
	if rss < k.base {
		// The kernel reclaimed pages, or bbolt remapped the file: what
		// is resident now is the level to grow from.
		k.base = rss
	}
	above := rss - k.base
	return above >= k.growth || (above > 0 && now.Sub(k.changed) >= k.quiet)
}

// released takes the file-backed RSS at now, right after a release, read
// when written bytes had been written.
func (k *mappedKeeper) released(rss, written uint64, now time.Time) {
	k.base, k.last, k.changed, k.written = rss, rss, now, written
}
