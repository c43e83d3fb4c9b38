// Command blackhole listens on a TCP address, accepts every connection,
// reads whatever arrives and never answers, until it is stopped.
//
// The delivery benchmark points the forwarder's GA4 endpoint at it while
// calls are loaded: the few sends that start hang (within --send-timeout)
// instead of failing, so no delivery is settled, retried or scheduled for
// later, and the whole backlog is due at once when the forwarder is
// restarted against the emulator. A closed port would not do: a refused
// connection is a transient failure, and each one would push its delivery
// seconds into the future by the retry schedule.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8091", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("blackhole: listen: %v", err)
	}
	fmt.Fprintf(os.Stdout, "blackhole listening on %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Printf("blackhole: accept: %v", err)
			continue
		}
		go func() {
			defer conn.Close()
			_, _ = io.Copy(io.Discard, conn)
		}()
	}
}
