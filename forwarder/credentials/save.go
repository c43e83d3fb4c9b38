package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SaveOAuthClient sets google.oauth_client (client_id, client_secret,
// refresh_token) in the credentials file at path, creating the file when
// it does not exist and keeping every other key as it was. The file is
// replaced atomically (a temporary file in the same directory, synced,
// then renamed over it) with mode 0600, so a crash leaves the old file or
// the new one, and no other user can read the secrets at any moment.
func SaveOAuthClient(path string, c OAuthClient) error {
	doc := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("credentials: %w", err)
	default:
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("credentials: %s: not a JSON object, left unchanged: %w", path, err)
		}
	}
	google := map[string]json.RawMessage{}
	if raw, ok := doc["google"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if err := json.Unmarshal(raw, &google); err != nil {
			return fmt.Errorf("credentials: %s: google is not an object, left unchanged: %w", path, err)
		}
	}
	client, err := json.Marshal(map[string]string{
		"client_id":     c.ClientID,
		"client_secret": c.ClientSecret.Reveal(),
		"refresh_token": c.RefreshToken.Reveal(),
	})
	if err != nil {
		return fmt.Errorf("credentials: encode oauth_client: %w", err)
	}
	google["oauth_client"] = client
	if doc["google"], err = json.Marshal(google); err != nil {
		return fmt.Errorf("credentials: encode google: %w", err)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("credentials: encode: %w", err)
	}
	return writeAtomic(path, append(out, '\n'))
}

// writeAtomic replaces the file at path with data, mode 0600.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("credentials: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("credentials: write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("credentials: write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("credentials: write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("credentials: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("credentials: write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // makes the rename durable where the platform can
		_ = d.Close()
	}
	return nil
}
