// Command load POSTs a fixed number of unique Fone Dynamics webhooks to the
// forwarder over a fixed number of keep-alive connections, then exits and
// prints one line for the benchmark runner:
//
//	LOAD_RESULT {"requests":20000,"ok":20000,"non_2xx":0,"errors":0,"seconds":4.1,"rps":4878.0}
//
// wrk runs for a duration, not a number of requests; the delivery benchmark
// needs an exact number of stored calls, hence this program.
//
// Bodies are the model webhook file (-form) with Call.Sid, Call.StartDate,
// the recording URI (which carries the Sid) and the GA client id replaced
// per request, the other fields kept as they are, in the file's order.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:8080/webhooks/fonedynamics", "webhook URL")
	flag.IntVar(&cfg.n, "n", 20000, "number of calls to send")
	flag.IntVar(&cfg.conns, "c", 32, "concurrent connections")
	flag.StringVar(&cfg.form, "form", "examples/webhooks/answered-with-gclid.form", "model webhook (form-encoded)")
	flag.StringVar(&cfg.nonce, "nonce", "", "run nonce in every Call.Sid (default: the clock)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "bound on one request")
	flag.Parse()
	cfg.token = os.Getenv("WEBHOOK_TOKEN")
	if cfg.nonce == "" {
		cfg.nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		log.Fatalf("load: %v", err)
	}
	out, err := json.Marshal(res)
	if err != nil {
		log.Fatalf("load: %v", err)
	}
	fmt.Printf("LOAD_RESULT %s\n", out)
	if res.OK != int64(res.Requests) {
		os.Exit(1)
	}
}

// config is what the flags give.
type config struct {
	url, form, nonce, token string
	n, conns                int
	timeout                 time.Duration
}

// result is what the run measured.
type result struct {
	Requests int     `json:"requests"`
	OK       int64   `json:"ok"`
	Non2xx   int64   `json:"non_2xx"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
}

func run(ctx context.Context, cfg config) (result, error) {
	if cfg.n < 1 || cfg.conns < 1 {
		return result{}, errors.New("-n and -c must be positive")
	}
	raw, err := os.ReadFile(cfg.form)
	if err != nil {
		return result{}, fmt.Errorf("read model: %w", err)
	}
	tpl, err := parseTemplate(strings.TrimSpace(string(raw)))
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", cfg.form, err)
	}
	client := &http.Client{
		Timeout: cfg.timeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: cfg.conns,
			MaxConnsPerHost:     cfg.conns,
			DisableCompression:  true,
		},
	}
	defer client.CloseIdleConnections()

	var (
		next               atomic.Int64
		ok, non2xx, failed atomic.Int64
		firstErr           sync.Once
		wg                 sync.WaitGroup
	)
	start := time.Now()
	for w := range cfg.conns {
		wg.Go(func() {
			var body bytes.Buffer
			for {
				i := next.Add(1)
				if i > int64(cfg.n) {
					return
				}
				body.Reset()
				tpl.write(&body, callSid(cfg.nonce, w, i), time.Now().UTC(), clientID(i))
				status, err := post(ctx, client, cfg.url, cfg.token, body.Bytes())
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.Do(func() { log.Printf("load: first error: %v", err) })
				case status/100 == 2:
					ok.Add(1)
				default:
					non2xx.Add(1)
					firstErr.Do(func() { log.Printf("load: first refusal: status %d", status) })
				}
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return result{
		Requests: cfg.n, OK: ok.Load(), Non2xx: non2xx.Load(), Errors: failed.Load(),
		Seconds: math.Round(secs*1000) / 1000, RPS: math.Round(float64(cfg.n)/secs*10) / 10,
	}, nil
}

// post sends one webhook and returns the status, having read the answer so
// that the connection is reused.
func post(ctx context.Context, c *http.Client, u, token string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, nil
}

// callSid is the Sid of the i-th call of worker w in the run nonce, shaped
// like the platform's: "CA" and 32 hex digits. The first 8 are a hash of
// the nonce and i, so that calls arrive in no particular order of Sid, as
// real ones do (and land all over the stores' Sid-keyed B-trees); the rest
// spell the nonce's hash, w and i, so no two calls of a run, nor of two
// runs, share a Sid.
func callSid(nonce string, w int, i int64) string {
	h := fnv.New32a()
	h.Write([]byte(nonce))
	n := h.Sum32()
	mix := fnv.New32a()
	fmt.Fprintf(mix, "%d-%s", i, nonce)
	return fmt.Sprintf("CA%08x%08x%04x%012x", mix.Sum32(), n, uint16(w), uint64(i)&(1<<48-1))
}

// clientID is a GA client id ("<random>.<first visit>") unique per call.
func clientID(i int64) string {
	return fmt.Sprintf("1%09d.%d", i%1_000_000_000, time.Now().Unix()-86400)
}

// template is a form body split into its parameters, in order.
type template struct {
	names, values []string
}

// parseTemplate splits a form body; it must carry the fields write replaces.
func parseTemplate(form string) (template, error) {
	var t template
	for pair := range strings.SplitSeq(form, "&") {
		name, value, _ := strings.Cut(pair, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return template{}, fmt.Errorf("parameter %q: %w", name, err)
		}
		t.names = append(t.names, n)
		t.values = append(t.values, value)
	}
	for _, need := range []string{"Call.Sid", "Call.StartDate", "Google.Analytics.ClientId"} {
		if !strings.Contains(form, need+"=") {
			return template{}, fmt.Errorf("the model has no %s", need)
		}
	}
	return t, nil
}

// write appends the body of one call to b.
func (t template) write(b *bytes.Buffer, sid string, start time.Time, cid string) {
	for i, name := range t.names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name))
		b.WriteByte('=')
		switch name {
		case "Call.Sid":
			b.WriteString(url.QueryEscape(sid))
		case "Call.StartDate":
			b.WriteString(url.QueryEscape(start.Format(time.DateTime)))
		case "Call.Recording.Uri":
			b.WriteString(url.QueryEscape("https://recordings.example.net/" + sid + ".mp3"))
		case "Google.Analytics.ClientId":
			b.WriteString(url.QueryEscape(cid))
		default:
			b.WriteString(t.values[i])
		}
	}
}
