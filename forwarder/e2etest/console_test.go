package e2etest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callforward/callforward/forwarder/emulator"
)

// consoleShots, when set, is the directory the browser test saves a
// screenshot of each console page to (the README's come from docs/).
var consoleShots = flag.String("console.screenshots", "", "save screenshots of the console's pages to this directory")

// browser starts a headless Chromium (Debian's chromium package; the test
// fails without it) and returns a context driving one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (Debian package chromium; .ci/run installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestConsoleInBrowser drives the console of a running forwarder in
// Chromium: a page without a session goes to the login; a wrong token is
// refused; logged in, the overview's numbers are the store's, a call is
// found by its Sid and its timeline read, a dead letter is retried and
// delivered, and a form without its CSRF token is refused. No page shows
// a phone number, client id, GCLID or the admin token; the webhook port
// serves none of it.
func TestConsoleInBrowser(t *testing.T) {
	e := newEnv(t)
	e.useExampleRules(t, "")
	token := e.addAdminToken(t, "e2e-console")
	logs := &Logs{}
	// Every send fails at first, with two quick retries: the first call
	// becomes dead letters.
	e.emu.SetFaults(emulator.Faults{ErrorRate: 1})
	f := e.start(t, logs, append(e.adsArgs(), "--admin-listen", "127.0.0.1:0", "--retry-schedule", "20ms,40ms")...)
	admin := "http://" + adminAddr(t, logs)
	dead := newCall(1, "ANSWERED", 95)
	if code, reply := e.post(t, f, dead); code != http.StatusOK {
		t.Fatalf("post: %d %v", code, reply)
	}
	var ov struct {
		Store struct{ Calls, Pending, Dead int } `json:"store"`
	}
	overview := func() {
		t.Helper()
		code, body := adminGet(t, admin+"/admin/api/overview", token)
		if code != http.StatusOK || json.Unmarshal(body, &ov) != nil {
			t.Fatalf("read API overview: %d %s", code, body)
		}
	}
	Eventually(t, 15*time.Second, "the first call's deliveries die", func() bool { overview(); return ov.Store.Dead > 0 && ov.Store.Pending == 0 })
	e.emu.SetFaults(emulator.Faults{})
	e.postSample(t, f, "answered-with-gclid.form", nil)
	for i := 2; i <= 6; i++ {
		c := newCall(i, []string{"ANSWERED", "NO ANSWER"}[i%2], 20*i)
		if code, reply := e.post(t, f, c); code != http.StatusOK {
			t.Fatalf("post: %d %v", code, reply)
		}
	}
	Eventually(t, 15*time.Second, "the other calls are delivered", func() bool { overview(); return ov.Store.Pending == 0 })

	if code, _ := adminGet(t, f.URL()+"/login", ""); code != http.StatusNotFound {
		t.Errorf("the webhook port serves the console's login: %d", code)
	}

	b := &tab{t: t, ctx: browser(t)}
	b.do("a page without a session", chromedp.Navigate(admin+"/calls"), chromedp.WaitVisible(chromedp.CSS("#token")))
	b.snap("login")
	if loc := b.location(); !strings.HasPrefix(loc, admin+"/login?next=") {
		t.Errorf("a page without a session is at %s, want the login", loc)
	}
	b.do("a wrong token", chromedp.SendKeys(chromedp.CSS("#token"), "admin-"+randHex(16)), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if text := b.text(".notice"); !strings.Contains(text, "not valid") {
		t.Errorf("a wrong token: %q, want it refused", text)
	}
	b.do("log in", chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("#calls")))
	if loc := b.location(); loc != admin+"/calls" {
		t.Errorf("after the login: %s, want /calls (where the visit began)", loc)
	}

	overview()
	b.do("overview", chromedp.Navigate(admin+"/"), chromedp.WaitVisible(chromedp.CSS("#destinations")))
	b.snap("overview")
	calls, pending, deadN := b.text("#n-calls"), b.text("#n-pending"), b.text("#n-dead")
	if calls != strconv.Itoa(ov.Store.Calls) || pending != strconv.Itoa(ov.Store.Pending) || deadN != strconv.Itoa(ov.Store.Dead) {
		t.Errorf("overview shows calls %s pending %s dead %s; the store has %d %d %d", calls, pending, deadN, ov.Store.Calls, ov.Store.Pending, ov.Store.Dead)
	}

	b.do("calls", chromedp.Navigate(admin+"/calls"), chromedp.WaitVisible(chromedp.CSS("#calls")))
	b.snap("calls")
	link := chromedp.CSS(`a[href="/calls/` + sampleSid + `"]`)
	// The unfiltered list may show the call's link too: wait for the
	// search's page (its field holds the Sid as its value attribute,
	// which typing does not set) before looking for the link.
	b.do("find a call by Sid", chromedp.SendKeys(chromedp.CSS("#sid"), sampleSid[:12]), chromedp.Submit(chromedp.CSS("#sid")),
		chromedp.WaitVisible(chromedp.CSS(`#sid[value="`+sampleSid[:12]+`"]`)),
		chromedp.WaitVisible(link), chromedp.Click(link), chromedp.WaitVisible(chromedp.CSS(".delivery")))
	b.snap("call")
	text := b.text("main")
	for _, want := range []string{sampleSid, "•••678", "sent (GA4 does not report processing)", "awaiting Google's processing report"} {
		if !strings.Contains(text, want) {
			t.Errorf("the call's timeline lacks %q:\n%s", want, text)
		}
	}

	b.do("dead letters", chromedp.Navigate(admin+"/deadletters"), chromedp.WaitVisible(chromedp.CSS("#deadletters")))
	b.snap("deadletters")
	retry := chromedp.CSS(`#deadletters button[name="retry_one"]`)
	attr, err := chromedp.Run(b.ctx, chromedp.AttributeValue(retry, "value"))
	if err != nil || attr.Value == "" {
		t.Fatalf("no dead letter to retry: %v", err)
	}
	deliveryID := attr.Value
	b.do("a form without its CSRF token", chromedp.SetAttributeValue(chromedp.CSS(`#letters-form input[name="csrf"]`), "value", ""),
		chromedp.Click(retry), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if text := b.text("main"); !strings.Contains(text, "Form refused") {
		t.Errorf("a form without its CSRF token: %q, want it refused", text)
	}
	b.do("retry one", chromedp.Navigate(admin+"/deadletters"), chromedp.WaitVisible(chromedp.CSS("#deadletters")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#deadletters button[name="retry_one"][value=%q]`, deliveryID))),
		chromedp.WaitVisible(chromedp.CSS("#confirm")))
	b.snap("confirm")
	b.do("confirm", chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if text := b.text(".notice.ok"); !strings.Contains(text, "1 dead letter(s) put back in the queue") {
		t.Errorf("after the retry: %q", text)
	}
	callSid, _, _ := strings.Cut(deliveryID, "/")
	Eventually(t, 15*time.Second, "the retried delivery is delivered", func() bool {
		if chromedp.Do(b.ctx, chromedp.Navigate(admin+"/calls/"+callSid), chromedp.WaitVisible(chromedp.CSS(".delivery"))) != nil {
			return false
		}
		state, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(fmt.Sprintf(`[aria-labelledby=%q] .pill`, "d-"+deliveryID))))
		return err == nil && state == "done"
	})

	b.do("rules", chromedp.Navigate(admin+"/rules"), chromedp.WaitVisible(chromedp.CSS("#webhook")))
	b.snap("rules")
	sample, err := os.ReadFile("../../examples/webhooks/answered-with-gclid.form")
	must(t, err)
	b.do("try a webhook", chromedp.SetValue(chromedp.CSS("#webhook"), string(sample)), chromedp.Submit(chromedp.CSS("#webhook")),
		chromedp.WaitVisible(chromedp.CSS("#try-result")))
	b.snap("rules-try")
	if text := b.text("#try-result"); !strings.Contains(text, "Deliveries planned") {
		t.Errorf("try a webhook: %q", text)
	}
	b.do("on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(admin+"/"), chromedp.WaitVisible(chromedp.CSS("#destinations")))
	b.snap("overview-phone")
	b.do("log out", chromedp.ResetViewport(), chromedp.Click(chromedp.CSS(".logout button")), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.Navigate(admin+"/deadletters"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if loc := b.location(); !strings.Contains(loc, "/login") {
		t.Errorf("after logging out: %s, want the login", loc)
	}

	for _, page := range b.html {
		for _, s := range []string{samplePhone, sampleClientID, sampleGCLID, token, dead.phone, dead.clientID, "412345678", "1764110422"} {
			if strings.Contains(page, s) {
				name, _, _ := strings.Cut(page, "\n")
				t.Errorf("the %s page shows %q", name, s)
			}
		}
	}
}

// tab is the browser tab of a test: each step fails the test at once.
type tab struct {
	t    *testing.T
	ctx  context.Context
	html []string // each page snapped: its name, a newline, its HTML
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *tab) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return s
}

// snap keeps the page's HTML for the personal-data scan and, with
// -console.screenshots, saves a screenshot of it.
func (b *tab) snap(name string) {
	b.t.Helper()
	h, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("snap %s: %v", name, err)
	}
	b.html = append(b.html, name+"\n"+h)
	if *consoleShots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	must(b.t, os.WriteFile(filepath.Join(*consoleShots, "console-"+name+".png"), png, 0o644))
}
