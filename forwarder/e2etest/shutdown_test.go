package e2etest

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// TestSIGTERMUnderLoad stops the forwarder with SIGTERM while webhooks
// keep coming: it exits 0 within its grace period, /readyz fails before
// the listener closes, and every call it acknowledged is delivered (now,
// or after a restart) exactly once.
func TestSIGTERMUnderLoad(t *testing.T) {
	e := newEnv(t)
	e.emu.SetFaults(emulator.Faults{Delay: 5 * time.Millisecond})
	logs := &Logs{}
	f := e.start(t, logs, "--shutdown-grace", "5s", "--shutdown-delay", "300ms")
	var mu sync.Mutex
	var want []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := newCall(w*100000+i, "ANSWERED", 70)
				code, reply, err := postForm(f, e.token, c)
				if err != nil {
					return // the listener closed
				}
				if code == http.StatusOK && reply["status"] == "accepted" {
					mu.Lock()
					want = append(want, c.expected()...)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	sawNotReady := make(chan bool, 1)
	go func() {
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			res, err := http.Get(f.URL() + "/readyz")
			if err != nil {
				break
			}
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable {
				sawNotReady <- true
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		sawNotReady <- false
	}()
	took, err := f.Stop()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
	}
	if took > 5*time.Second+time.Second {
		t.Errorf("stopped in %v, want within the 5s grace period", took)
	}
	if !<-sawNotReady {
		t.Error("/readyz never failed between SIGTERM and the listener closing")
	}
	mu.Lock()
	accepted := len(want)
	mu.Unlock()
	if accepted == 0 {
		t.Fatal("no call was accepted before the stop")
	}
	e.start(t, logs) // deliver what the stop left pending
	Eventually(t, 20*time.Second, "every acknowledged call arrives", func() bool {
		lost, _ := account(want, e.received())
		return len(lost) == 0
	})
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("SIGTERM under load: stopped in %v; %d events acknowledged, lost=%d duplicated=%d", took.Round(time.Millisecond), accepted, len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}
