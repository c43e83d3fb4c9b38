//go:build linux

package bolt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// bucketBulk is a bucket of the tests only, outside the store's layout.
var bucketBulk = []byte("test-bulk")

// bulkValue is the value of key i: size bytes that tell i and their own
// offset, so that a page read from the wrong place does not pass.
func bulkValue(i, size int) []byte {
	v := make([]byte, size)
	for off := 0; off+16 <= size; off += 16 {
		binary.BigEndian.PutUint64(v[off:], uint64(i))
		binary.BigEndian.PutUint64(v[off+8:], uint64(off))
	}
	return v
}

func bulkKey(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

// putBulk writes keys from..to-1 with values of size bytes, per keys a
// transaction.
func putBulk(t testing.TB, db *bbolt.DB, from, to, size, per int) {
	t.Helper()
	for lo := from; lo < to; lo += per {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketBulk)
			if err != nil {
				return err
			}
			for i := lo; i < min(lo+per, to); i++ {
				if err := b.Put(bulkKey(i), bulkValue(i, size)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("put keys %d..%d: %v", lo, min(lo+per, to), err)
		}
	}
}

// checkBulk reads keys 0..n-1 and reports the first that is missing or
// wrong.
func checkBulk(db *bbolt.DB, n, size int) error {
	return db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketBulk)
		if b == nil {
			return fmt.Errorf("bucket %s missing", bucketBulk)
		}
		for i := range n {
			if v := b.Get(bulkKey(i)); !bytes.Equal(v, bulkValue(i, size)) {
				return fmt.Errorf("key %d: %d bytes, not its value", i, len(v))
			}
		}
		return nil
	})
}

// mappedRss returns the resident bytes of the mappings of path in this
// process, from /proc/self/smaps.
func mappedRss(t testing.TB, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatalf("open smaps: %v", err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: address range, perms, offset, device,
			// inode, path.
			in = len(fields) >= 6 && fields[5] == path
			continue
		}
		if in && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read smaps: %v", err)
	}
	return total
}

// openBulk opens a store in a temporary directory and closes it when t
// ends.
func openBulk(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestReleaseMapped: once a store file is read whole, its mapping is
// resident; ReleaseMapped takes it out of the resident set, and what is
// read afterwards is still the data written.
func TestReleaseMapped(t *testing.T) {
	const n, size = 4000, 4000 // about 16 MiB of values
	s := openBulk(t)
	putBulk(t, s.db, 0, n, size, 500)
	path := s.db.Path()

	if err := checkBulk(s.db, n, size); err != nil {
		t.Fatalf("read before release: %v", err)
	}
	before := mappedRss(t, path)
	if before < 12<<20 {
		t.Fatalf("mapped Rss after reading the file whole = %d KiB, want at least 12 MiB", before>>10)
	}
	if err := s.ReleaseMapped(); err != nil {
		t.Fatalf("ReleaseMapped: %v", err)
	}
	after := mappedRss(t, path)
	if after > 256<<10 {
		t.Errorf("mapped Rss after ReleaseMapped = %d KiB (before: %d KiB), want at most 256 KiB", after>>10, before>>10)
	}
	if err := checkBulk(s.db, n, size); err != nil {
		t.Fatalf("read after release: %v", err)
	}
	if again := mappedRss(t, path); again < 12<<20 {
		t.Errorf("mapped Rss after reading again = %d KiB, want at least 12 MiB (the pages fault back in)", again>>10)
	}
	// The store's own operations read the file as they did.
	if err := s.ReleaseMapped(); err != nil {
		t.Fatalf("ReleaseMapped: %v", err)
	}
	if _, err := s.Stats(context.Background()); err != nil {
		t.Errorf("Stats after ReleaseMapped: %v", err)
	}
}

// TestReleaseMappedWhileGrowing: releases running all the time, while
// writes grow the file (so bbolt remaps it several times) and reads check
// what was written, disturb neither.
func TestReleaseMappedWhileGrowing(t *testing.T) {
	const size, per = 3000, 50
	n := 6000
	if testing.Short() {
		n = 1500
	}
	s := openBulk(t)
	putBulk(t, s.db, 0, per, size, per)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var releases, checks int
	wg.Go(func() { // releases, back to back
		for ctx.Err() == nil {
			if err := s.ReleaseMapped(); err != nil {
				errs <- err
				return
			}
			releases++
		}
	})
	var written sync.Mutex // guards done
	done := per
	wg.Go(func() { // readers of what is written so far
		for ctx.Err() == nil {
			written.Lock()
			upTo := done
			written.Unlock()
			if err := checkBulk(s.db, upTo, size); err != nil {
				errs <- fmt.Errorf("check %d keys: %w", upTo, err)
				return
			}
			checks++
		}
	})
	sizes := map[int64]bool{}
	for lo := per; lo < n; lo += per {
		putBulk(t, s.db, lo, lo+per, size, per)
		written.Lock()
		done = lo + per
		written.Unlock()
		if st, err := os.Stat(s.db.Path()); err == nil {
			sizes[st.Size()] = true
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(sizes) < 4 {
		t.Errorf("the file took %d sizes while written, want at least 4 (it must grow for this test)", len(sizes))
	}
	if releases == 0 || checks == 0 {
		t.Errorf("%d releases and %d checks ran alongside the writes, want some of each", releases, checks)
	}
	if err := checkBulk(s.db, n, size); err != nil {
		t.Errorf("read after the writes: %v", err)
	}
}

// TestKeepMappedLow: the keeper releases what a burst of reads made
// resident once reading stops, and stops with its context.
func TestKeepMappedLow(t *testing.T) {
	const n, size = 3000, 4000
	s := openBulk(t)
	putBulk(t, s.db, 0, n, size, 500)
	path := s.db.Path()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.KeepMappedLow(ctx)
	}()
	if err := checkBulk(s.db, n, size); err != nil {
		t.Fatalf("read: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for mappedRss(t, path) > 256<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("mapped Rss still %d KiB 5s after the reads, want at most 256 KiB", mappedRss(t, path)>>10)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("KeepMappedLow still running 2s after its context ended")
	}
}

// TestMappedKeeper: when the keeper releases, by the file-backed RSS read
// at each look, a look every 100ms.
func TestMappedKeeper(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		rss  []uint64 // file-backed RSS at each look, from a base of 10 MiB
		want []bool
	}{
		{"unchanged: never", []uint64{10 * mib, 10 * mib, 10 * mib, 10 * mib, 10 * mib}, []bool{false, false, false, false, false}},
		{"growth of 8 MiB: at once", []uint64{12 * mib, 18 * mib}, []bool{false, true}},
		{"growing slowly: once unchanged for 300ms", []uint64{11 * mib, 12 * mib, 13 * mib, 13 * mib, 13 * mib, 13 * mib}, []bool{false, false, false, false, false, true}},
		{"below the base: the new base", []uint64{4 * mib, 11 * mib, 11 * mib, 11 * mib, 11 * mib, 12*mib + 1}, []bool{false, false, false, false, true, true}},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	look := func(i int) time.Time { return t0.Add(time.Duration(i+1) * 100 * time.Millisecond) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mappedKeeper{growth: 8 * mib, quiet: 300 * time.Millisecond, base: 10 * mib, last: 10 * mib, changed: t0}
			for i, rss := range tt.rss {
				if got := k.tick(rss, look(i)); got != tt.want[i] {
					t.Errorf("look %d (%d KiB): release = %v, want %v", i, rss>>10, got, tt.want[i])
				}
			}
		})
	}
	// After a release, the level it left is the base.
	k := mappedKeeper{growth: 8 * mib, quiet: 300 * time.Millisecond, base: 10 * mib, last: 10 * mib, changed: t0}
	if !k.tick(20*mib, look(0)) {
		t.Fatal("growth of 10 MiB: no release")
	}
	k.released(11*mib, look(0))
	for i := range 5 {
		if k.tick(11*mib, look(i+1)) {
			t.Errorf("look %d after the release, unchanged: release, want none", i)
		}
	}
}
