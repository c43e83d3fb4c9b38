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
// transactions (at most every mappedCheck) and every mappedIdleCheck, and
// releases them again when that RSS has grown by mappedGrowth since the
// last release, or has stayed above that level, unchanged, for
// mappedQuiet. It returns at once where the file-backed RSS cannot be
// read (systems other than Linux), and when the store is closed.
func (s *Store) KeepMappedLow(ctx context.Context) {
	if _, ok := fileRSS(); !ok {
		return
	}
	// What opening the store read (the leases released, the tallies
	// counted) goes first.
	if err := s.ReleaseMapped(); err != nil {
		return
	}
	rss, ok := fileRSS()
	if !ok {
		return
	}
	k := mappedKeeper{growth: mappedGrowth, quiet: mappedQuiet, base: rss, last: rss, changed: time.Now()}
	idle := time.NewTicker(mappedIdleCheck)
	defer idle.Stop()
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.commits.wrote:
		case <-idle.C:
		}
		if rss, ok := fileRSS(); ok && k.tick(rss, time.Now()) {
			if err := s.ReleaseMapped(); err != nil {
				return // the store is closed
			}
			if rss, ok := fileRSS(); ok {
				k.released(rss, time.Now())
			}
		}
		pause.Reset(mappedCheck)
		select {
		case <-ctx.Done():
			return
		case <-pause.C:
		}
	}
}

// mappedKeeper decides, from the file-backed RSS read at each look, when
// to release the mapped pages.
type mappedKeeper struct {
	growth  uint64        // growth since the last release that releases
	quiet   time.Duration // how long unchanged above base releases
	base    uint64        // file-backed RSS right after the last release
	last    uint64        // file-backed RSS at the previous look
	changed time.Time     // when last was first seen
}

// tick takes the file-backed RSS at now and reports whether to release.
func (k *mappedKeeper) tick(rss uint64, now time.Time) bool {
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

// released takes the file-backed RSS at now, right after a release.
func (k *mappedKeeper) released(rss uint64, now time.Time) {
	k.base, k.last, k.changed = rss, rss, now
}
