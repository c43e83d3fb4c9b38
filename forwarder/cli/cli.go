// Package cli is the forwarder's command line: one function per
// subcommand, each parsing its flags (with FORWARDER_* environment twins)
// and calling into the app, mapping and emulator packages. cmd/forwarder
// only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
)

// Version is set at build time with -ldflags "-X .../cli.Version=v1.2.3".
var Version = "dev"

// IO is where a command reads and writes.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, args []string, io IO) error
}

var commands = map[string]command{
	"serve":      {"receive webhooks and deliver them (the service)", serve},
	"demo":       {"run the forwarder against a local Google emulator with sample calls", demo},
	"check":      {"validate a rules file and credentials", check},
	"explain":    {"show what the rules plan for one webhook, without sending", explain},
	"emulate":    {"run the local Google emulator (GA4) for tests and demos", emulate},
	"version":    {"print the version", version},
	"deadletter": {"list, retry or drop dead-lettered deliveries", deadletter},
	"replay":     {"re-plan stored calls under the current rules (nothing is sent twice)", replay},
	"google":     {"set Google up: authorize (refresh token), conversion-actions (their ids)", google},
	"calls":      {"list stored calls, or show one call's timeline and Google's outcome", calls},
}

// errUsage marks an error already explained by the flag package.
var errUsage = errors.New("usage")

// Main runs the subcommand named in args[0] and returns the exit code.
func Main(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.Stderr, "forwarder: unknown command %q\n\n", args[0])
		usage(io.Stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], io); err != nil {
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(io.Stderr, "forwarder %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: forwarder <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'forwarder <command> -h' for the flags of a command; every flag has a FORWARDER_* environment twin.")
}

func newFlagSet(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("forwarder "+name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	return fs
}

// parseFlags parses and maps flag errors to errUsage (the flag package
// has already printed them).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		fmt.Fprintln(fs.Output(), err)
		return errUsage
	}
	if fs.NArg() > 0 && fs.Name() != "forwarder explain" && fs.Name() != "forwarder calls show" {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	return nil
}

func version(_ context.Context, args []string, io IO) error {
	fs := newFlagSet("version", io)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "callforward %s\n", versionString())
	return nil
}

// versionString is Version, or the module version the binary was built
// from when Version was not set at build time.
func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return v
}
