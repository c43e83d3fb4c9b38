package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// formatVersion is the version of the file format written; decode
// refuses others.
const formatVersion = 1

// record is the content of a spool file.
type record struct {
	Version    int                  `json:"version"`
	SpooledAt  time.Time            `json:"spooled_at"`
	Call       *forwarder.Call      `json:"call"`
	Deliveries []forwarder.Delivery `json:"deliveries"`
}

// encode checks that call and deliveries can be spooled (a Sid usable as
// a file name, deliveries that belong to call, as the primary requires)
// and returns the file name and content.
func encode(call *forwarder.Call, deliveries []forwarder.Delivery, now time.Time) (name string, data []byte, err error) {
	if call == nil {
		return "", nil, errors.New("no call")
	}
	name, err = fileName(call.Sid, call.Event)
	if err != nil {
		return "", nil, err
	}
	for _, d := range deliveries {
		if d.CallSid != call.Sid || !strings.HasPrefix(d.ID, call.Sid+"/") {
			return "", nil, fmt.Errorf("delivery %q belongs to call %q, not %q", d.ID, d.CallSid, call.Sid)
		}
	}
	data, err = json.Marshal(record{Version: formatVersion, SpooledAt: now.UTC(), Call: call, Deliveries: deliveries})
	if err != nil {
		return "", nil, fmt.Errorf("encode call %s: %w", call.Sid, err)
	}
	return name, data, nil
}

// decode reads the content of the spool file name.
func decode(name string, data []byte) (record, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return record{}, fmt.Errorf("decode %s: %w", name, err)
	}
	if r.Version != formatVersion {
		return record{}, fmt.Errorf("decode %s: format version %d, want %d", name, r.Version, formatVersion)
	}
	if r.Call == nil {
		return record{}, fmt.Errorf("decode %s: no call", name)
	}
	// The name must be the call's: the duplicate check looks the event and
	// Sid up by name, so a renamed file would let its call be spooled
	// twice. A file spooled before the event was part of the name is named
	// by its Sid alone.
	want, err := fileName(r.Call.Sid, r.Call.Event)
	if err != nil {
		return record{}, fmt.Errorf("decode %s: %w", name, err)
	}
	if want != name && legacyFileName(r.Call.Sid) != name {
		return record{}, fmt.Errorf("decode %s: holds call %q, whose file is %s", name, r.Call.Sid, want)
	}
	return r, nil
}

// writeTemp writes data to a new temporary file in dir, fsyncs and closes
// it, and returns its path. Nothing is left behind on failure.
func writeTemp(dir string, data []byte) (path string, err error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// syncDir fsyncs the directory dir, making the creation, renaming and
// removal of its entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// exists reports whether the entry name of dir exists.
func exists(dir, name string) (bool, error) {
	_, err := os.Lstat(filepath.Join(dir, name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("look up %s: %w", name, err)
}
