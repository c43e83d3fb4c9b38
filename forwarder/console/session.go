package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder/credentials"
)

// Sessions are stateless: the cookie carries the admin token's label, an
// expiry and a random nonce, signed with HMAC-SHA256 under a key derived
// from that admin token's secret value. Nothing is stored on the server,
// so every instance that reads the same credentials file (all instances on
// one Redis normally do) validates every other's sessions, and a restart
// logs nobody out. Removing or rotating an admin token in credentials.json
// ends its sessions at once on every instance that has reloaded the file.
// Logging out clears the cookie; a copied cookie stays valid until it
// expires (SessionTTL) or its token is rotated: stateless sessions cannot
// be revoked one by one.
//
// The CSRF token of a session is an HMAC of its nonce under the same key:
// each session has its own, and a form posted from another session, or
// without a session, is refused.

// SessionTTL is how long a console session lasts.
const SessionTTL = 12 * time.Hour

// The cookies the console sets.
const (
	sessionCookie = "callforward_console"
	loginCookie   = "callforward_login"
)

// signer signs and checks sessions with the admin tokens' keys.
type signer struct {
	keys map[string][]byte // by token label
}

func newSigner(tokens []credentials.AdminToken) *signer {
	s := &signer{keys: map[string][]byte{}}
	for _, t := range tokens {
		m := hmac.New(sha256.New, []byte(t.Token.Reveal()))
		m.Write([]byte("callforward console session v1"))
		s.keys[t.Label] = m.Sum(nil)
	}
	return s
}

// session is a logged-in admin.
type session struct {
	Label   string
	Expires time.Time
	Nonce   string
}

// issue returns the cookie value of a new session for label.
func (s *signer) issue(label string, now time.Time) (string, session) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	ss := session{Label: label, Expires: now.Add(SessionTTL), Nonce: hex.EncodeToString(b[:])}
	payload := base64.RawURLEncoding.EncodeToString([]byte(label)) + "." + strconv.FormatInt(ss.Expires.Unix(), 10) + "." + ss.Nonce
	return payload + "." + s.mac(label, "session|"+payload), ss
}

// check returns the session of a cookie value, if it is signed by a
// current admin token's key and has not expired.
func (s *signer) check(value string, now time.Time) (session, bool) {
	parts := strings.Split(value, ".")
	if len(parts) != 4 {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return session{}, false
	}
	label := string(raw)
	if _, ok := s.keys[label]; !ok {
		return session{}, false
	}
	payload := strings.Join(parts[:3], ".")
	if subtle.ConstantTimeCompare([]byte(parts[3]), []byte(s.mac(label, "session|"+payload))) != 1 {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return session{}, false
	}
	return session{Label: label, Expires: time.Unix(exp, 0), Nonce: parts[2]}, true
}

// csrf is the CSRF token of a session.
func (s *signer) csrf(ss session) string {
	return s.mac(ss.Label, "csrf|"+ss.Nonce)
}

// checkCSRF reports whether tok is the CSRF token of ss.
func (s *signer) checkCSRF(ss session, tok string) bool {
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf(ss))) == 1
}

func (s *signer) mac(label, msg string) string {
	m := hmac.New(sha256.New, s.keys[label])
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tokenLabel returns the label of the admin token given, comparing every
// token in constant time; "" when none matches.
func tokenLabel(tokens []credentials.AdminToken, given string) string {
	sum := sha256.Sum256([]byte(given))
	label := ""
	for _, t := range tokens {
		ts := sha256.Sum256([]byte(t.Token.Reveal()))
		if subtle.ConstantTimeCompare(sum[:], ts[:]) == 1 {
			label = t.Label
		}
	}
	return label
}

// randomToken returns a fresh random token (the login form's double-submit
// CSRF token).
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
