package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/callforward/callforward/forwarder/app"
)

// FlagReference writes the serve flags as a Markdown table: flag,
// environment twin, default, meaning. The README's configuration
// reference is this output (a test keeps it current).
func FlagReference(w io.Writer) {
	cfg := app.Defaults()
	logLevel, logFormat := "info", "auto"
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &cfg, &logLevel, &logFormat)
	fmt.Fprintln(w, "| flag | environment | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(w, "| `--%s` | `%s` | `%s` | %s |\n", f.Name, envName(f.Name), def, strings.ReplaceAll(f.Usage, "|", "\\|"))
	})
}
