package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// page is what every template is given.
type page struct {
	Title string
	// Nav is the navigation entry of the page ("" on the login form).
	Nav string
	// Label is the logged-in admin token's label.
	Label string
	// CSRF is the token every form carries.
	CSRF    string
	Message string
	// Next is where the login form goes once logged in.
	Next string
	Data any
}

// templateFuncs are the helpers the templates use.
var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ago": ago,
	// route names a delivery of the call sid by its rule and destination.
	"route": func(id, sid string) string {
		return strings.Replace(strings.TrimPrefix(id, sid+"/"), "/", " → ", 1)
	},
	// outcomeText says an outcome in words a marketer reads.
	"outcomeText": func(s string) string {
		if s == string(forwarder.OutcomeAwaiting) {
			return "awaiting Google's processing report (within 30 minutes to 24 hours)"
		}
		return s
	},
	"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"stateClass": func(s any) string {
		return "state-" + strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(strings.ToLower(fmt.Sprint(s)))
	},
}

// ago says how long before now t was, roughly.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + (-d).Round(time.Second).String()
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h ago", d.Hours())
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(n.Name(), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", path.Join("templates", n.Name()))
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes the page name with p; the session's label and CSRF token
// are filled in from the request.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if ss, ok := r.Context().Value(sessionKey{}).(session); ok {
		p.Label = ss.Label
		p.CSRF = c.sign.csrf(ss)
	}
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered; see the forwarder's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
