package httpapi

import (
	"net/http"
	"testing"
)

func TestTokenSetMatch(t *testing.T) {
	ts := newTokenSet([]string{"alpha", "", "beta"})
	for candidate, want := range map[string]int{"alpha": 0, "beta": 1, "": -1, "alph": -1, "alphaa": -1, "gamma": -1} {
		if got := ts.match(candidate); got != want {
			t.Errorf("match(%q) = %d, want %d", candidate, got, want)
		}
	}
	if newTokenSet(nil).valid("alpha") {
		t.Error("an empty set accepted a token")
	}
}

func TestRequestToken(t *testing.T) {
	tests := []struct {
		name  string
		query string
		auth  string
		want  string
	}{
		{"query", "token=q", "", "q"},
		{"bearer", "", "Bearer b", "b"},
		{"bearer any case, padded", "", "BEARER   b  ", "b"},
		{"bearer wins over query", "token=q", "Bearer b", "b"},
		{"basic password", "", "Basic dTpw", "p"}, // u:p
		{"unknown scheme falls back to the query", "token=q", "Token b", "q"},
		{"malformed basic falls back to the query", "token=q", "Basic !!!", "q"},
		{"percent-encoded name", "tok%65n=q", "", "q"},
		{"nothing", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "http://x/?"+tt.query, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if got := requestToken(r); got != tt.want {
				t.Errorf("requestToken = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStripToken(t *testing.T) {
	tests := map[string]string{
		"":                        "",
		"token=t":                 "",
		"a=1&token=t&b=2":         "a=1&b=2",
		"token=t&a=1":             "a=1",
		"a=1&token=t":             "a=1",
		"a=1&token":               "a=1",
		"tok%65n=t&a=1":           "a=1",
		"token%3D=t&a=1":          "token%3D=t&a=1", // the name is "token=", not "token"
		"tokens=1&mytoken=2":      "tokens=1&mytoken=2",
		"a=token&b=%zz":           "a=token&b=%zz",
		"a=1&&b=2":                "a=1&&b=2",
		"a=+1&token=t&c=%2B61412": "a=+1&c=%2B61412",
	}
	for in, want := range tests {
		if got := stripToken(in); got != want {
			t.Errorf("stripToken(%q) = %q, want %q", in, got, want)
		}
	}
}
