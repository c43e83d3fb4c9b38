package e2etest

import (
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestRedisOutageWithSpool stops Redis for 10 s under a steady load with
// --spool-dir: every call is answered 200 (spooled while Redis is down),
// copies re-sent during the outage are answered duplicate, and once Redis
// is back every call is delivered exactly once.
func TestRedisOutageWithSpool(t *testing.T) {
	r := redistest.Start(t)
	e := newEnv(t)
	f := e.start(t, nil, append(sharedArgs(r), "--spool-dir", filepath.Join(e.dir, "spool"))...)
	var mu sync.Mutex
	var want []string
	var sent []call
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			c := newCall(i, "ANSWERED", 80)
			code, reply := e.post(t, f, c)
			if code != http.StatusOK || reply["status"] != "accepted" {
				t.Errorf("call %d: %d %v, want 200 accepted", i, code, reply)
			}
			mu.Lock()
			want = append(want, c.expected()...)
			sent = append(sent, c)
			mu.Unlock()
		}
	}()
	time.Sleep(time.Second)
	r.Stop()
	time.Sleep(5 * time.Second)
	// The platform re-sends some calls it sent during the outage.
	mu.Lock()
	again := append([]call(nil), sent[len(sent)-5:]...)
	mu.Unlock()
	for _, c := range again {
		if code, reply := e.post(t, f, c); code != http.StatusOK || reply["status"] != "duplicate" {
			t.Errorf("re-sent %s during the outage: %d %v, want 200 duplicate", c.sid, code, reply)
		}
	}
	time.Sleep(5 * time.Second)
	r.Restart()
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	Eventually(t, 30*time.Second, "every call arrives", func() bool { return len(e.emu.GA4Events()) >= len(want) })
	time.Sleep(500 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("Redis down 10 s with a spool: %d calls, %d events, lost=%d duplicated=%d", len(sent), len(want), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}
