package httpapi

import (
	"net/http"
	"time"
)

// Timeouts bound how long a client may hold a connection. A zero field
// takes its default (see DefaultTimeouts).
type Timeouts struct {
	// ReadHeader bounds reading the request line and headers: a client
	// that dribbles its headers (slowloris) is cut off after it.
	ReadHeader time.Duration
	// Read bounds reading the whole request, body included.
	Read time.Duration
	// Write bounds the time from the end of the headers to the end of the
	// reply, storing the call included.
	Write time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request.
	Idle time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// DefaultTimeouts returns the timeouts used for zero fields: a webhook is a
// few KiB sent in one go, so these are generous for a real sender and short
// for a client that holds connections open.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     5 * time.Second,
		Read:           15 * time.Second,
		Write:          15 * time.Second,
		Idle:           2 * time.Minute,
		MaxHeaderBytes: 32 << 10,
	}
}

// withDefaults fills the zero (or negative) fields.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return t
}

// NewServer returns an http.Server for h with the timeouts t (zero fields
// take their defaults). The caller sets Addr or calls Serve with a
// listener.
func NewServer(h http.Handler, t Timeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
	}
}
