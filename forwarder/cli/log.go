package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// newLogger builds the process logger: JSON, or text when format is
// "text" or ("auto" and w is a terminal).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return slog.New(slog.NewTextHandler(w, opts)), nil
			}
		}
	default:
		return nil, fmt.Errorf("log-format %q: want json, text or auto", format)
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}
