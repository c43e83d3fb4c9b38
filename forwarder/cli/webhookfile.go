package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/webhook"
)

// readWebhook reads one webhook from path ("-" for stdin) and decodes it.
// A body starting with '{' is JSON; anything else is a query string or
// urlencoded form (the same encoding). Like the webhook endpoint, it
// takes at most httpapi.DefaultMaxBody bytes.
func readWebhook(path string, stdin io.Reader) (*forwarder.Call, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read webhook: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, httpapi.DefaultMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read webhook: %w", err)
	}
	if len(data) > httpapi.DefaultMaxBody {
		return nil, fmt.Errorf("read webhook %s: larger than the limit of %d bytes", path, httpapi.DefaultMaxBody)
	}
	return decodeWebhook(filepath.Base(path), data)
}

// decodeWebhook decodes a sample request body (see examples/webhooks).
func decodeWebhook(name string, data []byte) (*forwarder.Call, error) {
	data = bytes.TrimSpace(data)
	var params, err = webhook.Params("POST", contentTypeOf(name, data), "", data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	call, err := webhook.Decode(params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return call, nil
}

func contentTypeOf(name string, data []byte) string {
	if strings.HasSuffix(name, ".json") || bytes.HasPrefix(data, []byte("{")) {
		return "application/json"
	}
	return "application/x-www-form-urlencoded"
}
