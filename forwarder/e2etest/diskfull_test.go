package e2etest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and
// unmounts it when the test ends (after the processes the test started
// later are gone). It fails the test, never skips it, when the mount
// fails: the test needs root and mount(8), as CI has.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	must(t, os.Mkdir(dir, 0o700))
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mount a %d-byte tmpfs on %s for the data dir: %v: %s(the disk-full test needs root and mount(8); it does not skip)", size, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes path until the filesystem is full and returns how much it
// wrote; the write must end with ENOSPC.
func fill(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			return n
		}
		if err != nil {
			t.Fatalf("fill %s: %v, want ENOSPC in the end", path, err)
		}
	}
}

// TestDiskFull fills the data dir's filesystem while the forwarder runs:
// webhooks are answered 503 (the platform sends them again), never 500,
// and never 200 for a call that is then lost (a call that still fits in
// the database's free pages is a 200 and arrives); /readyz says the disk
// is full. Once space is freed the forwarder takes calls again without a
// restart, and every call answered 200 is delivered exactly once.
func TestDiskFull(t *testing.T) {
	e := newEnv(t)
	dataDir := mountTmpfs(t, 8<<20)
	logs := &Logs{}
	f := e.start(t, logs, "--data-dir", dataDir)

	var want []string
	var refused []call
	i := 0
	send := func(c call) int {
		code, reply := e.post(t, f, c)
		switch {
		case code == http.StatusOK && reply["status"] == "accepted":
			want = append(want, c.expected()...)
		case code == http.StatusServiceUnavailable:
			refused = append(refused, c)
		default:
			t.Fatalf("call %s: %d %v, want 200 accepted or 503", c.sid, code, reply)
		}
		return code
	}
	next := func() call {
		c := newCall(i, []string{"ANSWERED", "NO ANSWER"}[i%2], 40+i%60)
		i++
		return c
	}
	for range 100 {
		if send(next()) != http.StatusOK {
			t.Fatalf("503 before the disk was full\n%s", tail(logs.String(), 20))
		}
	}

	ballast := filepath.Join(dataDir, "ballast")
	filled := fill(t, ballast)
	acceptedFull := 0
	for range 500 {
		if send(next()) == http.StatusServiceUnavailable {
			break
		}
		acceptedFull++
	}
	if len(refused) == 0 {
		t.Fatalf("disk full (%d bytes of ballast): 500 more calls all answered 200, want 503", filled)
	}
	// While the disk stays full, a call may still fit in pages the
	// database freed (its deliveries settle meanwhile): then it is a 200,
	// and it must arrive like any other.
	for range 20 {
		if send(next()) == http.StatusOK {
			acceptedFull++
		}
	}
	code, reason := readyz(f)
	if code != http.StatusServiceUnavailable || !strings.Contains(reason, "no space left on device") {
		t.Errorf("/readyz with the disk full: %d %s, want 503 saying no space is left\n%s", code, reason, tail(logs.String(), 10))
	}

	t.Logf("/readyz with the disk full: %d %s", code, reason)
	must(t, os.Remove(ballast))
	Eventually(t, 10*time.Second, "ready again once space is freed", func() bool {
		code, _ := readyz(f)
		return code == http.StatusOK
	})
	again := refused
	refused = nil
	for _, c := range again {
		send(c) // the platform sends again what got 503
	}
	for range 20 {
		send(next())
	}
	if len(refused) > 0 {
		t.Fatalf("%d calls still refused after space was freed\n%s", len(refused), tail(logs.String(), 20))
	}
	Eventually(t, 30*time.Second, "every accepted call arrives", func() bool {
		lost, _ := account(want, e.received())
		return len(lost) == 0
	})
	time.Sleep(500 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("disk full: %d bytes of ballast; %d calls answered 200 while it was full, %d answered 503 and sent again once space was freed; %d events, lost=%d duplicated=%d",
		filled, acceptedFull, len(again), len(want), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}
