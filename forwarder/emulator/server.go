package emulator

import (
	"encoding/json"
	"log/slog"
	"math/rand"
	"net/http"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// Seed seeds the random stream the faults are drawn from.
	Seed int64
	// Faults are the faults injected from the start (none by default).
	Faults Faults
	// Now tells the time (time.Now when nil); it decides which timestamps
	// are too old and stamps what is recorded.
	Now func() time.Time
	// Logger receives one debug line per API request (nothing when nil).
	// It never receives client ids nor secrets.
	Logger *slog.Logger
	// Ads configures the OAuth, Data Manager and Google Ads endpoints
	// from the start (see AdsConfig).
	Ads AdsConfig
}

// Server emulates Google's endpoints. It is safe for concurrent use.
type Server struct {
	opts    Options
	now     func() time.Time
	log     *slog.Logger
	handler http.Handler

	faultMu sync.Mutex
	faults  Faults
	rng     *rand.Rand

	mu          sync.Mutex
	ga4Events   []GA4Event
	ga4Dropped  []GA4Drop
	ga4Requests int64 // /mp/collect requests recorded

	google *googleState
	ua     uaState
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{
		opts:   opts,
		now:    opts.Now,
		log:    opts.Logger,
		faults: opts.Faults,
		rng:    rand.New(rand.NewSource(opts.Seed)),
		google: newGoogleState(opts.Ads),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	s.routeGA4(mux)
	s.routeOAuth(mux)
	s.routeDataManager(mux)
	s.routeAds(mux)
	s.routeSearch(mux)
	s.routeControl(mux)
	s.routeAdsControl(mux)
	s.routeUA(mux)
	s.handler = mux
	return s
}

// Handler returns the HTTP handler serving every emulated API and the
// control endpoints, for any host.
func (s *Server) Handler() http.Handler { return s.handler }

// Reset forgets everything recorded and restores the faults and the random
// stream New started with, so a run after Reset draws the same faults as a
// run on a new Server.
func (s *Server) Reset() {
	s.faultMu.Lock()
	s.faults = s.opts.Faults
	s.rng = rand.New(rand.NewSource(s.opts.Seed))
	s.faultMu.Unlock()

	s.mu.Lock()
	s.ga4Events = nil
	s.ga4Dropped = nil
	s.ga4Requests = 0
	s.mu.Unlock()

	s.resetGoogle()
	s.resetUA()
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
