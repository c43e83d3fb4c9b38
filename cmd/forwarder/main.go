// Command forwarder receives Fone Dynamics call webhooks and forwards them
// to Google Analytics 4 and Google Ads. Run "forwarder" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/callforward/callforward/forwarder/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
