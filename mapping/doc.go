// Package mapping turns the marketers' rules file into deliveries: it
// parses the YAML file, checks it thoroughly, compiles it, and then plans
// the deliveries of each call with [Rules.Evaluate].
//
// # The rules file
//
//	destinations:
//	  web:                          # a name you choose
//	    type: ga4
//	    measurement_id: G-ABC123XYZ # the web stream's id; the API secret is in credentials.json
//	rules:
//	  - name: qualified-call        # required, unique, 1-64 of [A-Za-z0-9_-]
//	    when:                       # every matcher given must hold; a list means any of
//	      event: Call.Complete      # the default; Call.Initiate must be named
//	      disposition: [ANSWERED]   # ANSWERED, "NO ANSWER", BUSY, IVR, FAILED
//	      min_duration: 60          # seconds, inclusive
//	      max_duration: 3600        # seconds, inclusive
//	      property: [PR81b2c3d4e5f60718]        # Property.Sid
//	      account: [AC5f1c0d2e9b8a47c3]         # Account.Sid
//	      number_name: ["Website - Google Ads"] # Call.To.Name
//	      number_type: Dynamic                  # Call.To.Type: Static or Dynamic
//	      traffic_type: [Campaign, Organic]     # Session.Traffic.Type
//	      survey_type: ["New booking"]          # Call.Survey.Type
//	      has_client_id: true       # the call carries a GA client id (or not)
//	      has_gclid: true           # the call carries a Google Ads click id (or not)
//	      has_survey_value: true    # the agent entered a Call.Survey.Value (or not)
//	    stop: false                 # true: later rules are skipped for calls this rule matched
//	    send:
//	      - to: web                 # a destination; a rule sends to each destination at most once
//	        event: qualified_call   # the GA4 event name
//	        params:                 # at most 24 (the sender adds engagement_time_msec)
//	          duration: "{{Call.Duration}}"          # one reference keeps the field's type
//	          label: "call from {{Call.From.City}}"  # text with references in it
//	          value: 50                              # constants: numbers or texts
//	          currency: AUD
//
// Matching of text (events, dispositions, names, types, sids) ignores case.
// A rule without `when` matches every Call.Complete. Rules are tried in file
// order; every matching rule sends all its actions unless an earlier
// matching rule had stop: true.
//
// # Values
//
// A parameter value is a number, a text, or a text with {{Field}}
// references to the webhook's own dotted parameter names (case-insensitive):
// Call.Duration, Call.Disposition, Call.To.Name, Call.Survey.Value,
// Attribution.Source, Session.Traffic.Type, Property.Sid, ... A value that is
// exactly one reference keeps the field's type (Call.Duration and
// Call.Survey.Value are numbers) and is left out when the call does not have
// the field; in mixed text a missing field reads as empty. Names the
// platform does not document read the call's extra parameters, with a
// warning. Personal data (Call.From, Call.Endpoint, Call.Recording.Uri,
// Google.Analytics.ClientId, Google.AdWords.ClickId) cannot be referenced in
// GA4 parameters: Google's policy forbids it. Texts longer than GA4's 100
// characters are cut at evaluation; a constant that long is refused.
//
// # Design
//
// Loading walks yaml.Node trees rather than decoding into structs, so that
// every problem carries file:line:col, unknown keys are refused with a
// "did you mean" hint, and all problems of a file are reported at once
// ([ErrorList]). Things that are legal but suspicious (an unused
// destination, an undocumented disposition) become [Rules.Warnings].
//
// Everything is resolved at load: matchers become small structs with a
// match method, field references become accessor functions, templates
// become lists of parts. Evaluate therefore does no parsing and no lookups
// by name (except for undocumented fields, which live in Call.Extra); it
// allocates the result, one parameter map per delivery and rendered texts.
// [Rules] is immutable after loading and safe for concurrent use.
//
// Destination types are a table (destTypes): each type names the keys of
// its definition and of its actions and compiles both. GA4 is the only type
// today; Google Ads conversions (type google_ads, with conversion_action,
// value and currency) are another entry of that table, and CEL `expr:`
// conditions another implementation of the condition interface. Both keys
// are recognised now and refused with a clear message.
package mapping
