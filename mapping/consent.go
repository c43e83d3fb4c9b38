package mapping

import (
	"strings"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// consentChoices are the values a consent signal takes in the rules file;
// Google takes them in capitals.
var consentChoices = []string{"granted", "denied"}

// consentKeys are the keys of a consent mapping: GA4 and settings take
// both, Google Ads conversions only ad_user_data.
var consentKeys = []string{"ad_user_data", "ad_personalization"}

// compileConsent compiles `consent: {ad_user_data: granted,
// ad_personalization: denied}` into the values Google takes (GRANTED or
// DENIED, "" for a signal not given). withPersonalization is false where
// Google takes ad_user_data alone (conversion uploads). ok is false after
// a problem.
func (l *loader) compileConsent(n *yaml.Node, ctx string, withPersonalization bool) (c forwarder.GA4Consent, ok bool) {
	keys, hints := consentKeys, map[string]string(nil)
	if !withPersonalization {
		keys = consentKeys[:1]
		hints = map[string]string{
			"ad_personalization": "ad_personalization cannot be sent with conversions: Google only takes ad_user_data there",
		}
	}
	o, ok := l.object(n, ctx, "consent", keys, hints)
	if !ok {
		return c, false
	}
	read := func(key string) string {
		if !o.has(key) {
			return ""
		}
		return strings.ToUpper(l.choice(o.get(key), ctx, key, consentChoices, true))
	}
	c.AdUserData = read("ad_user_data")
	if withPersonalization {
		c.AdPersonalization = read("ad_personalization")
	}
	if c == (forwarder.GA4Consent{}) && !o.has("ad_user_data") && !o.has("ad_personalization") {
		if withPersonalization {
			l.errorf(o.node, ctx, "consent needs ad_user_data and/or ad_personalization: granted or denied (whether the caller agreed to their data being used for advertising, and to personalised ads)")
		} else {
			l.errorf(o.node, ctx, "consent needs ad_user_data: granted or denied (whether the caller agreed to their data being used for advertising)")
		}
		return c, false
	}
	return c, true
}

// withDefaults returns c with the signals it leaves unset taken from def.
func withDefaults(c, def forwarder.GA4Consent) forwarder.GA4Consent {
	if c.AdUserData == "" {
		c.AdUserData = def.AdUserData
	}
	if c.AdPersonalization == "" {
		c.AdPersonalization = def.AdPersonalization
	}
	return c
}
