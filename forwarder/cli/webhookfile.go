package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/webhook"
)

// readWebhook reads one webhook from path ("-" for stdin) and decodes it.
// A body starting with '{' is JSON; anything else is a query string or
// urlencoded form (the same encoding).
func readWebhook(path string, stdin io.Reader) (*forwarder.Call, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook: %w", err)
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
