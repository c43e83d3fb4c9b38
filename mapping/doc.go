// Package mapping turns the marketers' rules file into deliveries: it
// parses the YAML file, checks it thoroughly, compiles it, and then plans
// the deliveries of each call with [Rules.Evaluate].
//
// # The rules file
//
//	settings:                       # optional
//	  default_region: AU            # ISO 3166-1 alpha-2: the country of caller numbers written
//	                                # without a country code; none: they must be +E.164
//	  consent:                      # optional: the consent signals of GA4 events and Google Ads
//	    ad_user_data: granted       #   conversions that give none (granted or denied);
//	    ad_personalization: denied  #   ad_personalization goes to GA4 only
//	destinations:
//	  web:                          # a name you choose
//	    type: ga4
//	    measurement_id: G-ABC123XYZ # the web stream's id; the API secret is in credentials.json
//	    consent: {ad_user_data: granted} # optional: request-level consent of its events
//	  ads:
//	    type: google_ads
//	    customer_id: 123-456-7890   # the conversion customer; dashes optional, kept as 10 digits
//	    login_customer_id: 111-222-3333 # optional: the manager account access goes through
//	    backend: data_manager       # the default (Data Manager API); or google_ads_api
//	  legacy:                       # legacy: Google stopped processing UA hits in 2023/2024;
//	    type: ua                    #   for UA-style collectors (serve --ua-endpoint)
//	    tracking_id: UA-12345-1     # the Universal Analytics property id
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
//	      min_survey_value: 1       # Call.Survey.Value, inclusive; calls without one never match
//	      max_survey_value: 500
//	      source: [google, bing]    # Attribution.Source: exact values,
//	      medium: ["*cpc*"]         #   globs (* ? [a-z], path.Match; * does not cross '/'),
//	      campaign: ["/^brand-/"]   #   or /regular expressions/ (RE2); all ignore case
//	      has_caller_phone: true    # the caller's number is known (not withheld or missing)
//	      country: [Australia]      # Call.From.Country
//	      first_call_within_days: 30 # the caller did not call in the previous 30 days (1-400),
//	                                #   see Caller history
//	      expr: call.duration >= 60 && attribution.medium == "cpc" # a CEL condition, see below
//	    stop: false                 # true: later rules are skipped for calls this rule matched
//	    send:
//	      - to: web                 # a destination; a rule sends to each destination at most once
//	        event: qualified_call   # the GA4 event name
//	        params:                 # at most 24 (the sender adds engagement_time_msec)
//	          duration: "{{Call.Duration}}"          # one reference keeps the field's type
//	          label: "call from {{Call.From.City}}"  # text with references in it
//	          value: 50                              # constants: numbers or texts
//	          currency: AUD
//	          tier: {expr: 'call.duration >= 300 ? "long" : "short"'} # a CEL expression
//	        user_properties:        # optional, at most 25; names <= 24 characters,
//	          caller_country: "{{Call.From.Country}}" # values <= 36 (cut), same forms as params
//	        consent: {ad_personalization: denied} # optional: over the destination's and settings',
//	                                # signal by signal
//	      - to: ads                 # a Google Ads offline conversion
//	        conversion_action: "987654321" # required: the conversion action's id (digits)
//	        kind: click             # the default; call: a call conversion (backend google_ads_api only)
//	        value: "{{Call.Survey.Value}}" # optional: a number or one numeric field
//	                                # or {expr: 'call.duration >= 300 ? 100.0 : 50.0'}
//	        default_value: 50       # optional: the value when that field is missing
//	        currency: AUD           # required with value
//	        time: start             # the conversion time: start, or end (start + duration);
//	                                # calls default to end, as Google wants it after the start
//	        caller_phone: hashed    # none (the default), or hashed: add the caller's number,
//	                                # E.164 and SHA-256, for enhanced conversions (click only)
//	        consent: {ad_user_data: granted} # optional: granted or denied (default: settings)
//	      - to: legacy              # a Universal Analytics event hit (legacy)
//	        category: Phone call    # required, <= 150 bytes; a constant or a {{Field}} text
//	        action: "{{Call.Disposition}}" # required, <= 500 bytes
//	        label: "{{Call.To.Name}}"      # optional, <= 500 bytes
//	        value: "{{Call.Duration}}"     # optional: a whole number, 0 or more, or one numeric field
//	        non_interaction: true   # optional: ni=1, the hit does not count as interaction
//	        campaign: true          # optional: send Attribution.Campaign/Source/Medium/Content
//	                                # as cn/cs/cm/cc
//
// Matching of text (events, dispositions, names, types, sids) ignores case.
// A rule without `when` matches every Call.Complete. Rules are tried in file
// order; every matching rule sends all its actions unless an earlier
// matching rule had stop: true.
//
// # Expressions
//
// expr: is a condition in CEL (https://cel.dev), compiled and type-checked
// when the file is loaded: a syntax or type error, or an expression that
// does not give true/false, is a load error at its file:line:col. The
// variables are typed fields of the call, and never personal data:
//
//	call.event, call.disposition, call.from_country, call.from_region,
//	call.from_city, call.to_name, call.to_type, call.property_sid,
//	call.property_name, call.account_sid, call.survey_type   string
//	call.duration        int (0 when absent, as in Call.Initiate)
//	call.survey_value    int or null (when the agent entered none)
//	call.start_time      timestamp (call.start_time.getHours("Australia/Sydney"))
//	call.has_gclid, call.has_client_id, call.has_caller_phone   bool
//	call.days_since_previous_call   int or null: whole days since the
//	                     caller's previous call, null when none is on record;
//	                     an evaluation error when the history is unknown
//	attribution.source, .medium, .campaign, .content            string
//	session.traffic_type, .keywords, .landing_uri, .conversion_uri string
//	extra                map(string, string): undocumented parameters
//
// The standard CEL functions (contains, startsWith, matches, size, in,
// timestamps) and the string extensions (lowerAscii, split, ...) are
// available. CEL does not mix int and double in arithmetic: write
// double(call.survey_value) * 1.5. An expression that fails on a call (a
// missing extra key, arithmetic on a null survey value) does not match it,
// and Explain gives the error: a rule never fails a request. Each
// evaluation is bounded in cost.
//
// # Caller history
//
// first_call_within_days asks whether the caller called before. A caller
// is their number, in E.164 (national numbers read in
// settings.default_region), within one Account.Sid; [Rules.CallerKey]
// turns the two into a SHA-256, the only form the stores keep. Evaluate
// does no I/O: intake looks the caller up before evaluating, when
// [Rules.NeedsCallerHistory] says a rule asks, and hands the answer over
// on the call (forwarder.Call.History). The call counts at its StartDate
// and matches when no earlier call of the caller is on record in the N
// days before it (exactly N days ago counts as outside). A caller whose
// history is unknown never matches: history not looked up (explain
// without --previous-call, a call stored while no rule asked), a withheld,
// missing or invalid number, or a store that could not be read. Counting
// such calls as first calls would report conversions that may not be;
// Explain says which case it is.
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
// A value may also be computed: {expr: '...'} is a CEL expression over the
// variables of conditions (see Expressions), type-checked at load to give
// a number or a text (a number for Google Ads values and the GA4 value
// parameter). An expression that fails on a call, or gives null, leaves
// the value out (a Google Ads value then takes default_value).
//
// GA4 user_properties take the same value forms as params, within GA4's
// limits: at most 25, names of at most 24 characters that GA4 does not
// reserve (user_id, first_open_time, ..., and the google_, ga_, firebase_
// prefixes), texts cut to 36 characters.
//
// # Google Ads conversions
//
// A click conversion is matched to the ad click by the call's
// Google.AdWords.ClickId (GCLID) and, with caller_phone: hashed, by the
// caller's number as well (enhanced conversions for leads): the number is
// normalised to E.164, reading national numbers in settings.default_region,
// and only its SHA-256 leaves the planner. A call with neither a GCLID nor a
// usable number (withheld, missing, invalid) is skipped, and Explain says
// why. A call conversion (kind: call, Google Ads API only) is identified by
// the caller's number, which Google requires in clear, and the call's start;
// calls without a usable number are skipped. A value that reads a field the
// call does not have (or a negative one) sends no value, unless
// default_value is given: "no value" lets Google Ads use the conversion
// action's own default, which 0 would not.
//
// Each conversion carries a transaction id derived from Call.Sid and the
// rule name (see transactionID): stable, so Google counts a re-sent
// conversion once, and free of personal data, which Google forbids there.
//
// # Universal Analytics (legacy)
//
// Google stopped processing Universal Analytics hits in July 2023
// (standard properties) and July 2024 (360 properties); a ua destination
// is for collectors that still speak Measurement Protocol v1. An action
// sends one event hit with the call's GA client id as cid, so calls
// without one are skipped, as for GA4; the same personal-data rule applies
// to category, action and label. Texts longer than the protocol's byte
// limits are cut at evaluation, never inside a character; a constant that
// long is refused. A category or action that is empty for a call (the
// fields it reads are missing) skips the action, and Explain says why. A
// value that reads a field the call does not have, or a negative one, is
// left out.
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
// its definition and of its actions and compiles both (ga4, google_ads, ua).
// CEL `expr:` conditions are another implementation of the condition
// interface, checked last since they cost the most. Their variables are
// declared with dotted names (call.duration) and resolved from the call by
// a table lookup at evaluation, so no map is built per call; the fields
// people reach for that are personal data (call.from, call.gclid) are
// refused with a message naming the has_* alternative.
//
// Phone numbers are normalised and hashed (package userdata) at
// evaluation, and only for the actions that need them: parsing and
// validating a number costs several times more than evaluating a file of
// fifty GA4 rules, so rules that do not send the caller's number pay
// nothing for it.
package mapping
