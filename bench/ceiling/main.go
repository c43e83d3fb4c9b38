// Command ceiling is the yardstick of the intake benchmarks: the smallest
// Gin server that does what any webhook receiver must do, reading the whole
// body of a POST and answering 200 with a short JSON body. It has no
// middleware, no authentication, no decoding and no storage, so its
// requests per second on a machine are the most the forwarder's HTTP stack
// could reach there; the forwarder's figures are reported as ratios to it.
//
// It serves the forwarder's webhook path, so the same wrk script and URL
// drive both servers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	flag.Parse()
	if err := run(*listen); err != nil {
		log.Fatalf("ceiling: %v", err)
	}
}

func run(listen string) error {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST(webhookPath, accept)

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(os.Stdout, "ceiling listening on http://%s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	}
}

// webhookPath is the forwarder's webhook path (httpapi.WebhookPath).
const webhookPath = "/webhooks/fonedynamics"

// accept reads the whole body into memory, as the forwarder does, and
// answers that it was accepted.
func accept(c *gin.Context) {
	if _, err := io.ReadAll(c.Request.Body); err != nil {
		c.Status(http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "accepted"})
}
