package googleads

import (
	"errors"
	"io"
	"sync"
	"testing"
)

// freed records the buffers a pooledBody hands back.
type freed struct {
	mu  sync.Mutex
	got []*[]byte
}

func (f *freed) free(b *[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, b)
}

func (f *freed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

func TestPooledBodyFreesOnceAllIsDone(t *testing.T) {
	for _, requestFirst := range []bool{true, false} {
		buf := []byte("the body\n")
		var f freed
		p := newPooledBody(&buf, f.free)
		first := p.reader()
		second, err := p.getBody()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []io.ReadCloser{first, second} {
			if got, err := io.ReadAll(r); err != nil || string(got) != "the body\n" {
				t.Fatalf("read %q, %v", got, err)
			}
		}
		if requestFirst {
			p.release()
		}
		_ = first.Close()
		_ = first.Close()
		if n := f.count(); n != 0 {
			t.Fatalf("freed %d times with a reader open", n)
		}
		if _, err := first.Read(make([]byte, 1)); !errors.Is(err, errBodyClosed) {
			t.Errorf("read after close: %v, want errBodyClosed", err)
		}
		_ = second.Close()
		if !requestFirst {
			if n := f.count(); n != 0 {
				t.Fatalf("freed %d times during the request", n)
			}
			p.release()
		}
		if n := f.count(); n != 1 || f.got[0] != &buf {
			t.Fatalf("freed %d times, want once, the body's buffer", n)
		}
		if _, err := p.getBody(); !errors.Is(err, errBodyClosed) {
			t.Errorf("GetBody after the buffer was freed: %v, want errBodyClosed", err)
		}
		if _, err := p.reader().Read(make([]byte, 1)); !errors.Is(err, errBodyClosed) {
			t.Errorf("reader after the buffer was freed read: %v, want errBodyClosed", err)
		}
	}
}

// TestPooledBodyConcurrentClose closes readers while they are read, as a
// transport may after Do returned: the buffer is freed once, after the
// last close (the race detector watches the reads).
func TestPooledBodyConcurrentClose(t *testing.T) {
	buf := make([]byte, 1<<16)
	var f freed
	p := newPooledBody(&buf, f.free)
	var wg sync.WaitGroup
	for range 8 {
		r := p.reader()
		wg.Go(func() {
			q := make([]byte, 512)
			for {
				if _, err := r.Read(q); err != nil {
					return
				}
			}
		})
		wg.Go(func() { _ = r.Close() })
	}
	p.release()
	wg.Wait()
	if n := f.count(); n != 1 {
		t.Fatalf("freed %d times, want 1", n)
	}
}
