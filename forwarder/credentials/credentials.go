// Package credentials loads credentials.json: the webhook tokens, GA4 API
// secrets and Google OAuth settings. Secrets are held in the Secret type,
// which prints as <redacted> in logs, errors and %v, so a careless log line
// cannot leak one.
package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"
)

// Secret is a credential. Its String, GoString, LogValue and MarshalJSON
// all hide it; Reveal returns it.
type Secret string

const redacted = "<redacted>"

// Reveal returns the secret itself, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the secret.
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer without revealing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler without revealing the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// UnmarshalJSON implements json.Unmarshaler.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("must be a string")
	}
	*s = Secret(v)
	return nil
}

// File is the content of credentials.json.
type File struct {
	// WebhookTokens are accepted on the webhook endpoint; list several to
	// rotate without downtime.
	WebhookTokens []Secret `json:"webhook_tokens"`
	// WebhookSignatureSecret, when set, makes the webhook require an
	// HMAC-SHA256 signature of each request under this key.
	WebhookSignatureSecret Secret `json:"webhook_signature_secret,omitempty"`
	// GA4APISecrets maps a GA4 measurement id (G-...) to the Measurement
	// Protocol API secret of its data stream.
	GA4APISecrets map[string]Secret `json:"ga4_api_secrets"`
	// Google holds OAuth settings for the Google Ads destinations.
	Google *Google `json:"google,omitempty"`
	// AdminTokens are accepted on the read API (serve --admin-listen);
	// each has a label that log lines name instead of the token.
	AdminTokens []AdminToken `json:"admin_tokens,omitempty"`
}

// AdminToken is a bearer token of the read API with the label that names
// it in logs.
type AdminToken struct {
	Label string `json:"label"`
	Token Secret `json:"token"`
}

// Google is how the forwarder authenticates to Google's APIs.
type Google struct {
	// OAuthClient is an installed-app or web OAuth client with a refresh
	// token obtained by a user who can reach the Ads accounts.
	OAuthClient *OAuthClient `json:"oauth_client,omitempty"`
	// ServiceAccountKeyFile is the path of a service-account JSON key.
	ServiceAccountKeyFile string `json:"service_account_key_file,omitempty"`
	// ServiceAccountKey is a service-account JSON key given inline.
	ServiceAccountKey json.RawMessage `json:"service_account_key,omitempty"`
	// DeveloperToken is the Google Ads API developer token, sent only
	// when set (the Data Manager API does not use one).
	DeveloperToken Secret `json:"developer_token,omitempty"`
}

// OAuthClient is an OAuth client id with a user's refresh token.
type OAuthClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret Secret `json:"client_secret"`
	RefreshToken Secret `json:"refresh_token"`
}

// Load reads and validates the credentials file at path. Extra webhook
// tokens may come from the environment variable FORWARDER_WEBHOOK_TOKENS
// (comma-separated), so a token need not be written to disk.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("credentials: %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and validates a credentials document.
func Parse(data []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// AddEnvTokens appends the tokens listed in env (comma-separated).
func (f *File) AddEnvTokens(env string) {
	for t := range strings.SplitSeq(env, ",") {
		if t = strings.TrimSpace(t); t != "" {
			f.WebhookTokens = append(f.WebhookTokens, Secret(t))
		}
	}
}

// Tokens returns the webhook tokens in clear, for the HTTP layer.
func (f *File) Tokens() []string {
	out := make([]string, 0, len(f.WebhookTokens))
	for _, t := range f.WebhookTokens {
		out = append(out, t.Reveal())
	}
	return out
}

// GA4Secrets returns the GA4 API secrets in clear, keyed by measurement id.
func (f *File) GA4Secrets() map[string]string {
	out := make(map[string]string, len(f.GA4APISecrets))
	for id, s := range f.GA4APISecrets {
		out[id] = s.Reveal()
	}
	return out
}

// MissingGA4Secrets returns the measurement ids (sorted) that have no API secret.
func (f *File) MissingGA4Secrets(measurementIDs []string) []string {
	var missing []string
	for _, id := range measurementIDs {
		if f.GA4APISecrets[id] == "" {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	return missing
}

func (f *File) validate() error {
	var errs []error
	for i, t := range f.WebhookTokens {
		if len(t) < 16 {
			errs = append(errs, fmt.Errorf("webhook_tokens[%d]: too short (%d characters); use at least 16 random characters", i, len(t)))
		}
	}
	for id, s := range f.GA4APISecrets {
		if !strings.HasPrefix(id, "G-") {
			errs = append(errs, fmt.Errorf("ga4_api_secrets: key %q is not a GA4 measurement id (G-...)", id))
		}
		if s == "" {
			errs = append(errs, fmt.Errorf("ga4_api_secrets[%q]: empty secret", id))
		}
	}
	labels := map[string]bool{}
	for i, t := range f.AdminTokens {
		switch {
		case t.Label == "":
			errs = append(errs, fmt.Errorf("admin_tokens[%d]: label is required (log lines name the token by it)", i))
		case labels[t.Label]:
			errs = append(errs, fmt.Errorf("admin_tokens[%d]: label %q is used twice", i, t.Label))
		}
		labels[t.Label] = true
		if len(t.Token) < 16 {
			errs = append(errs, fmt.Errorf("admin_tokens[%d] (%s): token too short (%d characters); use at least 16 random characters", i, t.Label, len(t.Token)))
		}
	}
	if g := f.Google; g != nil {
		if c := g.OAuthClient; c != nil && (c.ClientID == "" || c.ClientSecret == "" || c.RefreshToken == "") {
			errs = append(errs, errors.New("google.oauth_client: client_id, client_secret and refresh_token are all required"))
		}
		if g.ServiceAccountKeyFile != "" && len(g.ServiceAccountKey) > 0 {
			errs = append(errs, errors.New("google: give service_account_key_file or service_account_key, not both"))
		}
	}
	return errors.Join(errs...)
}

// PermissionWarning returns a warning when the file at path can be read by
// users other than its owner, or "" when it cannot.
func PermissionWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if st.Mode().Perm()&fs.FileMode(0o077) != 0 {
		return fmt.Sprintf("%s is readable by other users (mode %04o); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return ""
}
