package console

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/callview/viewtest"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/logtest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/mapping"
)

const (
	goodToken  = "admin-token-0123456789abcdef"
	otherToken = "second-token-fedcba9876543210"
)

var testTokens = []credentials.AdminToken{
	{Label: "ops", Token: credentials.Secret(goodToken)},
	{Label: "marketing", Token: credentials.Secret(otherToken)},
}

// fixture is a console over a real embedded store seeded with viewtest's
// calls.
type fixture struct {
	store store.Store
	srv   *httptest.Server
	logs  *logtest.Buffer
	rules []byte
}

func newFixture(t *testing.T, mod func(*Config), tls bool) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "callforward.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	viewtest.Seed(t, st)
	src, err := os.ReadFile("../cli/testdata/ga4-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := mapping.Parse("rules.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	cfg := Config{
		Store: st,
		Rules: func() *mapping.Rules { return rules },
		Status: func() Status {
			return Status{Rules: RulesStatus{Path: "rules.yaml", SHA256: "abc123", Source: src, LoadedAt: time.Now()}}
		},
		Tokens: testTokens,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, logs: logs, rules: src}
	if tls {
		f.srv = httptest.NewTLSServer(h)
	} else {
		f.srv = httptest.NewServer(h)
	}
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a browser-like client: a cookie jar, no redirects
// followed.
func (f *fixture) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *f.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and returns the response and its body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// csrfOf returns the CSRF token of the first form of a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", body)
	}
	return m[1]
}

// login logs c in with token and returns the login's answer.
func (f *fixture) login(t *testing.T, c *http.Client, token string) *http.Response {
	t.Helper()
	_, body := get(t, c, f.srv.URL+"/login")
	resp, _ := post(t, c, f.srv.URL+"/login", url.Values{"csrf": {csrfOf(t, body)}, "token": {token}, "next": {"/calls"}})
	return resp
}

func TestPageWithoutSessionRedirectsToLogin(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	for _, path := range []string{"/", "/calls", "/calls/" + viewtest.SidGA4, "/deadletters", "/rules"} {
		resp, _ := get(t, c, f.srv.URL+path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape(path) {
			t.Errorf("GET %s without a session: %d Location %q, want 303 to the login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := post(t, c, f.srv.URL+"/deadletters", url.Values{"retry_one": {"x"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without a session: %d, want 403", resp.StatusCode)
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		tls        bool
		secureFlag bool
		wantCode   int
		wantSecure bool
	}{
		{name: "good token, plain HTTP", token: goodToken, wantCode: http.StatusSeeOther},
		{name: "good token, plain HTTP behind a TLS proxy", token: otherToken, secureFlag: true, wantCode: http.StatusSeeOther, wantSecure: true},
		{name: "good token, TLS", token: goodToken, tls: true, wantCode: http.StatusSeeOther, wantSecure: true},
		{name: "wrong token", token: "not-a-token-0123456789", wantCode: http.StatusUnauthorized},
		{name: "empty token", token: "", wantCode: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.SecureCookies = tt.secureFlag }, tt.tls)
			c := f.client(t)
			resp := f.login(t, c, tt.token)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("login: %d, want %d", resp.StatusCode, tt.wantCode)
			}
			var session *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie {
					session = ck
				}
			}
			if tt.wantCode != http.StatusSeeOther {
				if session != nil {
					t.Fatalf("a refused login set a session cookie")
				}
				if !strings.Contains(f.logs.String(), "wrong admin token") {
					t.Errorf("refused login not logged")
				}
				if strings.Contains(f.logs.String(), tt.token) && tt.token != "" {
					t.Errorf("the log shows the token given")
				}
				return
			}
			if session == nil {
				t.Fatal("no session cookie")
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure != tt.wantSecure {
				t.Errorf("session cookie HttpOnly=%v SameSite=%v Secure=%v, want true, Strict, %v", session.HttpOnly, session.SameSite, session.Secure, tt.wantSecure)
			}
			if strings.Contains(session.Value, goodToken) || strings.Contains(session.Value, otherToken) {
				t.Errorf("the session cookie carries the token")
			}
			if loc := resp.Header.Get("Location"); loc != "/calls" {
				t.Errorf("login goes to %q, want /calls", loc)
			}
			if r, _ := get(t, c, f.srv.URL+"/calls"); r.StatusCode != http.StatusOK {
				t.Errorf("GET /calls after login: %d", r.StatusCode)
			}
		})
	}
}

func TestLoginFormNeedsItsCSRFToken(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	resp, _ := post(t, c, f.srv.URL+"/login", url.Values{"token": {goodToken}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without the form's token: %d, want 403", resp.StatusCode)
	}
	get(t, c, f.srv.URL+"/login")
	resp, _ = post(t, c, f.srv.URL+"/login", url.Values{"token": {goodToken}, "csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with a forged form token: %d, want 403", resp.StatusCode)
	}
}

func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	f := newFixture(t, nil, false)
	ops, mkt := f.client(t), f.client(t)
	f.login(t, ops, goodToken)
	f.login(t, mkt, otherToken)
	_, page := get(t, mkt, f.srv.URL+"/deadletters")
	foreign := csrfOf(t, page)
	id := deadID(t, f)
	tests := []struct {
		name string
		csrf string
	}{
		{"no token", ""},
		{"wrong token", "AAAA"},
		{"another session's token", foreign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, ops, f.srv.URL+"/deadletters", url.Values{"csrf": {tt.csrf}, "retry_one": {id}, "confirm": {"yes"}})
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Form refused") {
				t.Errorf("POST: %d, want 403 Form refused", resp.StatusCode)
			}
		})
	}
	if dl, err := f.store.DeadLetters(t.Context(), 0); err != nil || len(dl) != 2 {
		t.Errorf("dead letters after refused forms: %d (%v), want both still there", len(dl), err)
	}
}

// deadID is the delivery id of a seeded dead letter.
func deadID(t *testing.T, f *fixture) string {
	t.Helper()
	dl, err := f.store.DeadLetters(t.Context(), 0)
	if err != nil || len(dl) == 0 {
		t.Fatalf("seeded dead letters: %v %v", dl, err)
	}
	return dl[0].Job.Delivery.ID
}

func TestRetryDeadLetterAsksThenDoesAndAudits(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	_, page := get(t, c, f.srv.URL+"/deadletters")
	id := deadID(t, f)
	resp, confirm := post(t, c, f.srv.URL+"/deadletters", url.Values{"csrf": {csrfOf(t, page)}, "retry_one": {id}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(confirm, "Retry 1 dead letter(s)?") {
		t.Fatalf("first post: %d, want the confirmation:\n%s", resp.StatusCode, confirm)
	}
	if dl, _ := f.store.DeadLetters(t.Context(), 0); len(dl) != 2 {
		t.Fatalf("the confirmation step changed the store: %d dead letters", len(dl))
	}
	form := url.Values{"csrf": {csrfOf(t, confirm)}, "confirm": {"yes"}, "action": {"retry"}, "id": {id}}
	resp, _ = post(t, c, f.srv.URL+"/deadletters", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed post: %d, want 303", resp.StatusCode)
	}
	_, after := get(t, c, f.srv.URL+resp.Header.Get("Location"))
	if !strings.Contains(after, "1 dead letter(s) put back in the queue.") {
		t.Errorf("no report of the retry on the page")
	}
	jobs, err := f.store.Jobs(t.Context(), strings.SplitN(id, "/", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Job.Delivery.ID == id && j.State != store.JobPending {
			t.Errorf("retried delivery is %s, want pending", j.State)
		}
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"console: dead letters retry","token_label":"ops","count":1`) {
		t.Errorf("no audit line naming the token's label:\n%s", logs)
	}
	if strings.Contains(logs, goodToken) {
		t.Errorf("the log shows the admin token")
	}
}

func TestGroupAction(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	dl, err := f.store.DeadLetters(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	g := dl[0]
	_, page := get(t, c, f.srv.URL+"/deadletters")
	form := url.Values{"csrf": {csrfOf(t, page)}, "action": {"drop"}, "group": {"1"}, "group_kind": {kindOf(g)}, "group_code": {g.Code}, "group_reason": {g.Reason}, "confirm": {"yes"}}
	if resp, _ := post(t, c, f.srv.URL+"/deadletters", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("drop group: %d", resp.StatusCode)
	}
	left, _ := f.store.DeadLetters(t.Context(), 0)
	if len(left) != len(dl)-1 {
		t.Errorf("dead letters after dropping a group of 1: %d, want %d", len(left), len(dl)-1)
	}
}

func kindOf(d store.DeadLetter) string {
	if d.Kind == "" {
		return store.DeadSend
	}
	return d.Kind
}

func TestSessionsAreSharedAndEndWithTheirToken(t *testing.T) {
	now := time.Now()
	a, b := newSigner(testTokens), newSigner(testTokens)
	value, _ := a.issue("ops", now)
	rotated := newSigner([]credentials.AdminToken{{Label: "ops", Token: credentials.Secret("a-new-token-0123456789")}})
	tests := []struct {
		name  string
		s     *signer
		value string
		at    time.Time
		want  bool
	}{
		{"same instance", a, value, now, true},
		{"another instance with the same credentials", b, value, now, true},
		{"after the token was rotated", rotated, value, now, false},
		{"expired", a, value, now.Add(SessionTTL + time.Second), false},
		{"label changed", a, strings.Replace(value, value[:3], "bWFya2V0aW5n", 1), now, false},
		{"signature cut", a, value[:len(value)-2], now, false},
		{"garbage", a, "x.y.z.w", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.s.check(tt.value, tt.at); ok != tt.want {
				t.Errorf("check: %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	for _, path := range []string{"/login", "/", "/calls", "/deadletters", "/rules", "/static/console.css", "/nowhere"} {
		resp, body := get(t, c, f.srv.URL+path)
		h := resp.Header
		if h.Get("Content-Security-Policy") != contentSecurityPolicy || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: security headers missing: %v", path, h)
		}
		if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("GET %s: inline script or style, which the CSP forbids", path)
		}
		if strings.Contains(body, "http://") && !strings.HasPrefix(path, "/static") && strings.Contains(body, "src=\"http") {
			t.Errorf("GET %s: a third-party asset", path)
		}
	}
}

// personalData is what no page may show: the seeded personal data, the
// admin tokens, and the personal data of the pasted webhook.
var personalData = append([]string{goodToken, otherToken, "61498765432", "GCLIDpasted123456789", "555.1700000001"}, viewtest.Secrets...)

const pastedWebhook = "Action=Webhook&Event=Call.Complete&Call.Sid=CATRY1&Call.StartDate=2026-12-01+10%3A00%3A00&Call.From=%2B61498765432&Call.To=%2B61299990000&Call.Duration=120&Call.Disposition=ANSWERED&Google.Analytics.ClientId=555.1700000001&Google.AdWords.ClickId=GCLIDpasted123456789"

func TestNoPageShowsPersonalData(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	pages := map[string]string{}
	for _, path := range []string{"/", "/calls", "/calls?state=dead", "/deadletters", "/rules",
		"/calls/" + viewtest.SidGA4, "/calls/" + viewtest.SidRejected, "/calls/" + viewtest.SidAwaiting, "/calls/" + viewtest.SidDead} {
		resp, body := get(t, c, f.srv.URL+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		pages["GET "+path] = body
	}
	_, rulesPage := get(t, c, f.srv.URL+"/rules")
	resp, tried := post(t, c, f.srv.URL+"/rules", url.Values{"csrf": {csrfOf(t, rulesPage)}, "webhook": {pastedWebhook}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(tried, "Deliveries planned") {
		t.Fatalf("try a webhook: %d\n%s", resp.StatusCode, regexp.MustCompile(`(?s)<main.*</form>`).FindString(tried))
	}
	pages["POST /rules"] = tried
	_, dead := get(t, c, f.srv.URL+"/deadletters")
	_, confirm := post(t, c, f.srv.URL+"/deadletters", url.Values{"csrf": {csrfOf(t, dead)}, "action": {"retry"}, "id": {deadID(t, f)}})
	pages["POST /deadletters"] = confirm
	for name, body := range pages {
		for _, s := range personalData {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q", name, s)
			}
		}
	}
	if !strings.Contains(pages["GET /calls/"+viewtest.SidGA4], "•••678") {
		t.Errorf("the call page does not show the masked caller")
	}
}

func TestPagesShowTheStore(t *testing.T) {
	f := newFixture(t, nil, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	stats, err := f.store.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, overview := get(t, c, f.srv.URL+"/")
	for id, n := range map[string]int{"n-calls": stats.Calls, "n-pending": stats.Pending, "n-dead": stats.Dead} {
		if want := `id="` + id + `">` + strconv.Itoa(n) + `<`; !strings.Contains(overview, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	tests := []struct {
		path, want, not string
	}{
		{"/calls?sid=" + viewtest.SidDead, viewtest.SidDead, viewtest.SidGA4},
		{"/calls?state=rejected", viewtest.SidRejected, viewtest.SidDead},
		{"/calls?state=nonsense", "unknown call state", viewtest.SidDead},
		{"/calls/" + viewtest.SidRejected, "rejected by Google: EXPIRED_CLICK", ""},
		{"/calls/" + viewtest.SidDead, "event older than 72 hours", ""},
		{"/deadletters", "EXPIRED_CLICK", ""},
		{"/rules", "every-call", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, body := get(t, c, f.srv.URL+tt.path)
			if !strings.Contains(body, tt.want) || tt.not != "" && strings.Contains(body, ">"+tt.not+"<") {
				t.Errorf("GET %s: want %q and not %q", tt.path, tt.want, tt.not)
			}
		})
	}
}

// TestOverviewFiguresAreReusedBriefly: the overview's figures are reused
// for overviewTTL, then read again from the store.
func TestOverviewFiguresAreReusedBriefly(t *testing.T) {
	now := time.Now()
	var clock atomic.Int64
	f := newFixture(t, func(c *Config) { c.Now = func() time.Time { return now.Add(time.Duration(clock.Load())) } }, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	calls := func() string {
		t.Helper()
		_, body := get(t, c, f.srv.URL+"/")
		m := regexp.MustCompile(`id="n-calls">(\d+)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no call count on the overview")
		}
		return m[1]
	}
	before := calls()
	if err := f.store.Accept(t.Context(), viewtest.Call("CANEW1", now), nil); err != nil {
		t.Fatal(err)
	}
	if got := calls(); got != before {
		t.Errorf("within %v: %s calls, want the figures of before (%s)", overviewTTL, got, before)
	}
	clock.Store(int64(overviewTTL))
	if got, _ := strconv.Atoi(calls()); strconv.Itoa(got-1) != before {
		t.Errorf("after %v: %d calls, want one more than %s", overviewTTL, got, before)
	}
}

// TestOverviewShowsWholeTotals: the overview and the dead letters page
// count every call and delivery the store holds, however many (more than
// the 4,000 calls the overview once read).
func TestOverviewShowsWholeTotals(t *testing.T) {
	const calls = 4500
	st, err := bolt.Open(filepath.Join(t.TempDir(), "callforward.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := seed(st, calls); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(cfg *Config) { cfg.Store = st }, false)
	c := f.client(t)
	f.login(t, c, goodToken)
	stats, err := st.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Calls != calls || stats.Dead != calls/100 || stats.Pending != 2*calls-calls/100 {
		t.Fatalf("Stats = %+v, want %d calls, %d dead", stats, calls, calls/100)
	}
	_, overview := get(t, c, f.srv.URL+"/")
	// Each chart says it twice: in its caption and its label.
	if want := strconv.Itoa(calls) + " calls in all"; strings.Count(overview, want) != 4 {
		t.Errorf("the charts do not both say %q: %q", want, regexp.MustCompile(`\d+ calls in all[^<]*`).FindAllString(overview, -1))
	}
	row := regexp.MustCompile(`<th scope="row">website <span class="muted">ga4</span></th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>`).FindStringSubmatch(overview)
	if row == nil {
		t.Fatal("no row for destination website")
	}
	if got, want := row[1:], []string{strconv.Itoa(stats.Pending), "0", strconv.Itoa(stats.Dead)}; !slices.Equal(got, want) {
		t.Errorf("website pending, delivered, dead = %v, want %v", got, want)
	}
	_, dead := get(t, c, f.srv.URL+"/deadletters")
	if want := strconv.Itoa(calls/100) + " dead letter(s)"; !strings.Contains(dead, want) {
		t.Errorf("dead letters page lacks %q", want)
	}
	if want := `<td class="n">` + strconv.Itoa(calls/100) + `</td>`; !strings.Contains(dead, want) {
		t.Errorf("dead letters page lacks the group's count %s", want)
	}
}
