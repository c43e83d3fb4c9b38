package mapping

import (
	"strings"

	"github.com/callforward/callforward/forwarder/userdata"
	"go.yaml.in/yaml/v3"
)

// settingsKeys are the keys of the top-level `settings` mapping.
var settingsKeys = []string{"default_region", "consent"}

// settingsCtx names the settings in messages.
const settingsCtx = "settings"

// compileSettings compiles the optional `settings` mapping into the
// loader, before destinations and rules, which use it.
func (l *loader) compileSettings(n *yaml.Node) {
	o, ok := l.object(n, "", "settings", settingsKeys, nil)
	if !ok {
		return
	}
	if o.has("consent") {
		l.consent, _ = l.compileConsent(o.get("consent"), settingsCtx, true)
	}
	if !o.has("default_region") {
		return
	}
	rn := o.get("default_region")
	region, ok := l.text(rn, settingsCtx, "default_region")
	if !ok {
		return
	}
	if !userdata.KnownRegion(region) {
		hint := ""
		switch up := strings.ToUpper(region); {
		case up == "UK":
			hint = " (the United Kingdom is GB)"
		case up != region && userdata.KnownRegion(up):
			hint = " (did you mean " + up + "?)"
		}
		l.errorf(rn, settingsCtx, "default_region %q is not a country code: give the ISO 3166-1 alpha-2 code, in capitals, of the country whose national numbers callers use, such as AU%s", region, hint)
		return
	}
	l.region = region
}
