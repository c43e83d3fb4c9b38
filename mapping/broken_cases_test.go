package mapping

import "strings"

// head is a valid start of a rules file that broken cases build on.
const head = "destinations:\n  web: {type: ga4, measurement_id: G-TEST1234}\nrules:\n"

// adsHead is a valid start of a rules file with a Google Ads destination.
const adsHead = "destinations:\n  ads: {type: google_ads, customer_id: 123-456-7890}\nrules:\n"

// uaHead is a valid start of a rules file with a Universal Analytics
// destination.
const uaHead = "destinations:\n  legacy: {type: ua, tracking_id: UA-12345-1}\nrules:\n"

// brokenCases are rules files with problems, and the exact problems
// Parse must report, in order.
var brokenCases = []struct {
	name string
	yaml string
	want []string
}{
	{
		name: "empty file",
		yaml: "# nothing yet\n",
		want: []string{"rules.yaml:1:1: the file is empty; it needs destinations: and rules:"},
	},
	{
		name: "YAML syntax error",
		yaml: head + "  - name: a\n    send: [{to: web, event: x}\n",
		want: []string{"rules.yaml:4: YAML syntax: did not find expected ',' or ']'"},
	},
	{
		name: "tab indentation",
		yaml: head + "\t- name: a\n",
		want: []string{"rules.yaml:4: YAML syntax: found character that cannot start any token"},
	},
	{
		name: "top level is a list",
		yaml: "- name: a\n",
		want: []string{"rules.yaml:1:1: the rules file must be a mapping (key: value pairs), got a list"},
	},
	{
		name: "unknown top-level key with hint",
		yaml: "destination:\n  web: {type: ga4, measurement_id: G-TEST1234}\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:1:1: unknown key \"destination\" in the rules file (did you mean destinations?); known keys: destinations, rules, settings",
			"rules.yaml:1:1: destinations: define at least one destination, e.g.\n  destinations:\n    web: {type: ga4, measurement_id: G-XXXXXXX}",
			"rules.yaml:5:17: rule \"a\": destination \"web\" is not defined under destinations:",
		},
	},
	{
		name: "empty rules list",
		yaml: head[:len(head)-1] + " []\n",
		want: []string{"rules.yaml:3:8: rules: the file needs at least one rule"},
	},
	{
		name: "min_duration not a number",
		yaml: head + "  - name: qualified\n    when:\n      min_duration: sixty\n    send: [{to: web, event: x}]\n",
		want: []string{"rules.yaml:6:21: rule \"qualified\": min_duration must be a whole number of seconds, got \"sixty\""},
	},
	{
		name: "min_duration greater than max_duration",
		yaml: head + "  - name: a\n    when: {min_duration: 600, max_duration: 60}\n    send: [{to: web, event: x}]\n",
		want: []string{"rules.yaml:5:26: rule \"a\": min_duration (600) is greater than max_duration (60, line 5): no call can match"},
	},
	{
		name: "unknown matcher with hint",
		yaml: head + "  - name: a\n    when:\n      dispositon: ANSWERED\n    send: [{to: web, event: x}]\n",
		want: []string{"rules.yaml:6:7: rule \"a\": unknown key \"dispositon\" in when (did you mean disposition?); known keys: event, disposition, min_duration, max_duration, property, account, number_name, number_type, traffic_type, survey_type, has_client_id, has_gclid, has_survey_value, source, medium, campaign, min_survey_value, max_survey_value, has_caller_phone, country, first_call_within_days, expr"},
	},
	{
		name: "expr that does not compile",
		yaml: head + "  - name: a\n    when: {expr: 'call.duration >= '}\n    send: [{to: web, event: x}]\n" +
			"  - name: b\n    when:\n      expr: |\n        call.duration > 60 &&\n          call.disposition == 1\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:5:36: rule \"a\": expr: CEL: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}",
			"rules.yaml:11:28: rule \"b\": expr: CEL: found no matching overload for '_==_' applied to '(string, int)'",
		},
	},
	{
		name: "expr that is not a condition",
		yaml: head + "  - name: a\n    when: {expr: call.duration * 2}\n    send: [{to: web, event: x}]\n  - name: b\n    when: {expr: [a]}\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:5:18: rule \"a\": expr: the expression gives a whole number; it must give true or false (a condition such as call.duration >= 60)",
			"rules.yaml:8:18: rule \"b\": expr must be a text value, got a list",
		},
	},
	{
		name: "expr reading personal data or unknown fields",
		yaml: head + "  - name: a\n    when: {expr: 'call.from.startsWith(\"+61\") || call.gclid != \"\"'}\n    send: [{to: web, event: x}]\n" +
			"  - name: b\n    when: {expr: 'attribution.sorce == \"google\"'}\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:5:19: rule \"a\": expr: call.from cannot be used: the caller's phone number is personal data; use call.has_caller_phone (or has_caller_phone:) to test whether it is known",
			"rules.yaml:5:50: rule \"a\": expr: call.gclid cannot be used: the click id is an identifier; use call.has_gclid to test whether the call has one",
			"rules.yaml:8:19: rule \"b\": expr: attribution has no field \"sorce\" (did you mean source?); its fields are source, medium, campaign, content",
		},
	},
	{
		name: "bad patterns and survey range",
		yaml: head + "  - name: a\n    when:\n      campaign: ['/brand(/', '[a-']\n      source: ''\n      min_survey_value: 10\n      max_survey_value: 5\n      has_caller_phone: yes please\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:6:18: rule \"a\": campaign: /brand(/ is not a valid regular expression (RE2 syntax): missing closing ): `(?i)brand(`",
			"rules.yaml:6:30: rule \"a\": campaign: \"[a-\" is not a valid pattern: syntax error in pattern (use * for any text, ? for one character, [abc] for one of a set; escape with \\)",
			"rules.yaml:7:15: rule \"a\": source must not be empty",
			"rules.yaml:8:25: rule \"a\": min_survey_value (10) is greater than max_survey_value (5, line 9): no call can match",
			"rules.yaml:10:25: rule \"a\": has_caller_phone must be true or false, got \"yes please\"",
		},
	},
	{
		name: "first_call_within_days out of range",
		yaml: head +
			"  - {name: a, when: {first_call_within_days: 0}, send: [{to: web, event: x}]}\n" +
			"  - {name: b, when: {first_call_within_days: 401}, send: [{to: web, event: x}]}\n" +
			"  - {name: c, when: {first_call_within_days: 30d}, send: [{to: web, event: x}]}\n" +
			"  - {name: d, when: {first_call_within_days: 1.5}, send: [{to: web, event: x}]}\n" +
			"  - {name: e, when: {first_call_within_days: [30]}, send: [{to: web, event: x}]}\n" +
			"  - {name: f, when: {first_call_within_days: true}, send: [{to: web, event: x}]}\n" +
			"  - {name: g, when: {first_call_within_days: -30}, send: [{to: web, event: x}]}\n" +
			"  - {name: h, when: {first_call_within_day: 30}, send: [{to: web, event: x}]}\n" +
			"  - {name: i, when: {expr: 'call.days_since_last_call > 30'}, send: [{to: web, event: x}]}\n",
		want: []string{
			"rules.yaml:4:46: rule \"a\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got \"0\"",
			"rules.yaml:5:46: rule \"b\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got \"401\"",
			"rules.yaml:6:46: rule \"c\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got \"30d\"",
			"rules.yaml:7:46: rule \"d\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got \"1.5\"",
			"rules.yaml:8:46: rule \"e\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got a list",
			"rules.yaml:9:46: rule \"f\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got \"true\"",
			"rules.yaml:10:46: rule \"g\": first_call_within_days must be a whole number of days from 1 to 400 (the forwarder keeps 400 days of caller history), got \"-30\"",
			"rules.yaml:11:22: rule \"h\": unknown key \"first_call_within_day\" in when (did you mean first_call_within_days?); known keys: event, disposition, min_duration, max_duration, property, account, number_name, number_type, traffic_type, survey_type, has_client_id, has_gclid, has_survey_value, source, medium, campaign, min_survey_value, max_survey_value, has_caller_phone, country, first_call_within_days, expr",
			"rules.yaml:12:29: rule \"i\": expr: call has no field \"days_since_last_call\"; its fields are event, duration, disposition, from_country, from_region, from_city, to_name, to_type, property_sid, property_name, account_sid, survey_type, survey_value, start_time, has_gclid, has_client_id, has_caller_phone, days_since_previous_call",
		},
	},
	{
		name: "value expressions",
		yaml: "destinations:\n  web: {type: ga4, measurement_id: G-TEST1234}\n  ads: {type: google_ads, customer_id: 123-456-7890}\nrules:\n" +
			"  - name: a\n    send:\n      - to: web\n        event: x\n        params:\n" +
			"          tier: {expr: 'call.duration > 60'}\n" +
			"          value: {expr: 'call.to_name'}\n" +
			"          scaled: {expr: 'call.survey_value * 1.5'}\n" +
			"          who: {exp: call.from}\n" +
			"          currency: AUD\n" +
			"      - {to: ads, conversion_action: '1', currency: AUD, value: {expr: '\"fifty\"'}}\n" +
			"  - name: b\n    send: [{to: ads, conversion_action: '1', currency: AUD, value: {expr: 'call.client_id.size() * 1.0'}}]\n",
		want: []string{
			"rules.yaml:10:25: rule \"a\", send to \"web\": parameter \"tier\" expr: the expression gives a true/false value; it must give a number or a text",
			"rules.yaml:11:18: rule \"a\", send to \"web\": parameter \"value\" must be a number (GA4 sums it as revenue), but its expression gives text",
			"rules.yaml:12:45: rule \"a\", send to \"web\": parameter \"scaled\" expr: CEL: found no matching overload for '_*_' applied to '(wrapper(int), double)' (CEL does not mix whole and decimal numbers in arithmetic: write double(call.survey_value) * 1.5, or 2.0 instead of 2)",
			"rules.yaml:13:16: rule \"a\", send to \"web\": parameter \"who\": a computed value is written {expr: '...'}, e.g. {expr: 'call.duration >= 300 ? 100.0 : 50.0'}",
			"rules.yaml:13:17: rule \"a\", send to \"web\": unknown key \"exp\" in parameter \"who\" (did you mean expr?); known keys: expr",
			"rules.yaml:15:73: rule \"a\", send to \"ads\": value expr: the expression gives a text; it must give a number (such as call.duration >= 300 ? 100.0 : 50.0)",
			"rules.yaml:17:76: rule \"b\", send to \"ads\": value expr: call.client_id cannot be used: the GA client id identifies the visitor; use call.has_client_id to test whether the call has one",
		},
	},
	{
		name: "user property problems",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        user_properties:\n" +
			"          a_very_long_user_property_name: 1\n" +
			"          user_id: \"{{Call.Sid}}\"\n" +
			"          ga_session: 1\n" +
			"          label: " + longText(37) + "\n" +
			"          caller: \"{{Call.From}}\"\n" +
			"          tier: {expr: 'call.duration > 1'}\n" +
			"  - name: b\n    send: [{to: web, event: y, user_properties: {" + manyParams(26) + "}}]\n",
		want: []string{
			"rules.yaml:9:11: rule \"a\", send to \"web\": user property name \"a_very_long_user_property_name\" is 30 characters long; GA4 allows at most 24",
			"rules.yaml:10:11: rule \"a\", send to \"web\": user property name \"user_id\" is reserved by GA4",
			"rules.yaml:11:11: rule \"a\", send to \"web\": user property name \"ga_session\" starts with \"ga_\", which GA4 reserves",
			"rules.yaml:12:18: rule \"a\", send to \"web\": user property \"label\" is 37 characters long; a GA4 user property accepts at most 36",
			"rules.yaml:13:19: rule \"a\", send to \"web\": user property \"caller\": {{Call.From}} cannot be sent to a GA4 user property: it is the caller's phone number, and Google's policy forbids personal data in GA4 event parameters",
			"rules.yaml:14:25: rule \"a\", send to \"web\": user property \"tier\" expr: the expression gives a true/false value; it must give a number or a text",
			"rules.yaml:16:49: rule \"b\", send to \"web\": user_properties has 26 properties; GA4 allows at most 25 user properties per request",
		},
	},
	{
		name: "unknown destination type",
		yaml: "destinations:\n  ads: {type: googleads, customer_id: 123-456-7890}\n  web: {type: GA4, measurement_id: G-TEST1234}\nrules:\n  - name: a\n    send: [{to: ads, conversion_action: '1'}, {to: web, event: x}]\n",
		want: []string{
			"rules.yaml:2:15: destination \"ads\": unknown destination type \"googleads\"; known types: ga4, google_ads, ua (did you mean google_ads?)",
			"rules.yaml:3:15: destination \"web\": unknown destination type \"GA4\"; known types: ga4, google_ads, ua (did you mean ga4?)",
		},
	},
	{
		name: "invalid measurement id",
		yaml: "destinations:\n  web:\n    type: ga4\n    measurement_id: UA-12345-1\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n",
		want: []string{"rules.yaml:4:21: destination \"web\": measurement_id \"UA-12345-1\" is not a GA4 measurement id (G- followed by 4 to 16 capital letters or digits, as shown in Admin > Data streams)"},
	},
	{
		name: "missing measurement id",
		yaml: "destinations:\n  web: {type: ga4}\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n",
		want: []string{"rules.yaml:2:8: destination \"web\": measurement_id is missing: give the GA4 web stream's measurement id (G-...)"},
	},
	{
		name: "duplicate and missing rule names",
		yaml: head + "  - name: a\n    send: [{to: web, event: x}]\n  - name: a\n    send: [{to: web, event: y}]\n  - send: [{to: web, event: z}]\n  - name: has space\n    send: [{to: web, event: w}]\n",
		want: []string{
			"rules.yaml:6:11: rule #2: name \"a\" is already used by the rule at line 4; rule names must be unique",
			"rules.yaml:8:5: rule #3: name is missing; every rule needs a unique name (it is part of each delivery's id)",
			"rules.yaml:9:11: rule #4: name \"has space\" must be 1 to 64 letters, digits, '-' or '_'",
		},
	},
	{
		name: "unknown destination with hint",
		yaml: head + "  - name: a\n    send:\n      - to: webb\n        event: x\n  - name: b\n    send: [{to: web, event: y}]\n",
		want: []string{"rules.yaml:6:13: rule \"a\": destination \"webb\" is not defined under destinations: (did you mean web?)"},
	},
	{
		name: "rule sends twice to one destination",
		yaml: head + "  - name: a\n    send:\n      - {to: web, event: x}\n      - {to: web, event: y}\n",
		want: []string{"rules.yaml:7:14: rule \"a\": sends to \"web\" twice (first at line 6); a rule may send to each destination once, since the delivery id is call/rule/destination: split it into two rules"},
	},
	{
		name: "reserved and malformed event names",
		yaml: head + "  - name: a\n    send: [{to: web, event: page_view}]\n  - name: b\n    send: [{to: web, event: 1st_call}]\n  - name: c\n    send: [{to: web, event: google_call}]\n  - name: d\n    send: [{to: web, event: a_very_long_event_name_that_goes_past_forty}]\n  - name: e\n    send: [{to: web}]\n",
		want: []string{
			"rules.yaml:5:29: rule \"a\", send to \"web\": event name \"page_view\" is reserved by GA4 (it collects that event itself); choose another, e.g. phone_call",
			"rules.yaml:7:29: rule \"b\", send to \"web\": event name \"1st_call\" must start with a letter and contain only letters, digits and underscores",
			"rules.yaml:9:29: rule \"c\", send to \"web\": event name \"google_call\" starts with \"google_\", which GA4 reserves",
			"rules.yaml:11:29: rule \"d\", send to \"web\": event name \"a_very_long_event_name_that_goes_past_forty\" is 43 characters long; GA4 allows at most 40",
			"rules.yaml:13:12: rule \"e\", send to \"web\": event is missing: give the GA4 event name to send, e.g. event: phone_call",
		},
	},
	{
		name: "personal data in params",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        params:\n          caller: \"{{Call.From}}\"\n          cid: \"id {{google.analytics.clientid}}\"\n          to: \"{{Call.Endpoint}}\"\n          click: \"{{Google.AdWords.ClickId}}\"\n",
		want: []string{
			"rules.yaml:9:19: rule \"a\", send to \"web\": parameter \"caller\": {{Call.From}} cannot be sent to GA4: it is the caller's phone number, and Google's policy forbids personal data in GA4 event parameters",
			"rules.yaml:10:16: rule \"a\", send to \"web\": parameter \"cid\": {{Google.Analytics.ClientId}} cannot be sent to GA4: it identifies the website visitor; GA4 already receives it as the event's client id, and Google's policy forbids identifiers in event parameters",
			"rules.yaml:11:15: rule \"a\", send to \"web\": parameter \"to\": {{Call.Endpoint}} cannot be sent to GA4: it is the phone number the call was transferred to, and Google's policy forbids personal data in GA4 event parameters",
			"rules.yaml:12:18: rule \"a\", send to \"web\": parameter \"click\": {{Google.AdWords.ClickId}} cannot be sent to GA4: it is the Google Ads click id; GA4 reserves gclid and Google's policy forbids identifiers in event parameters (send it to Google Ads instead)",
		},
	},
	{
		name: "bad constants",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        params:\n          flag: true\n          nothing:\n          list: [1, 2]\n          long: \"" + longText(101) + "\"\n          inf: .inf\n",
		want: []string{
			"rules.yaml:9:17: rule \"a\", send to \"web\": parameter \"flag\": true/false values cannot be sent to GA4, which accepts numbers and texts only; use 1/0 or quote the text (\"true\")",
			"rules.yaml:10:19: rule \"a\", send to \"web\": parameter \"nothing\" has no value; give a number, a text or a {{field}} reference, or remove it",
			"rules.yaml:11:17: rule \"a\", send to \"web\": parameter \"list\" must be a number or a text, got a list",
			"rules.yaml:12:17: rule \"a\", send to \"web\": parameter \"long\" is 101 characters long; GA4 accepts at most 100",
			"rules.yaml:13:16: rule \"a\", send to \"web\": parameter \"inf\": .inf is not a usable number",
		},
	},
	{
		name: "too many params",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        params: {" + manyParams(25) + "}\n",
		want: []string{"rules.yaml:8:17: rule \"a\", send to \"web\": params has 25 parameters; GA4 takes 25 per event and the sender adds engagement_time_msec, so at most 24"},
	},
	{
		name: "bad parameter names",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        params:\n          ga_session: 1\n          engagement_time_msec: 1\n          my-param: 1\n          gclid: 2\n",
		want: []string{
			"rules.yaml:9:11: rule \"a\", send to \"web\": parameter name \"ga_session\" starts with \"ga_\", which GA4 reserves",
			"rules.yaml:10:11: rule \"a\", send to \"web\": parameter \"engagement_time_msec\" cannot be set here: the sender adds it to every event",
			"rules.yaml:11:11: rule \"a\", send to \"web\": parameter name \"my-param\" must start with a letter and contain only letters, digits and underscores",
			"rules.yaml:12:11: rule \"a\", send to \"web\": parameter \"gclid\" cannot be set here: GA4 reserves it; send click ids to Google Ads instead",
		},
	},
	{
		name: "broken references",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        params:\n          open: \"{{Call.Duration\"\n          empty: \"{{}}\"\n          spaced: \"{{Call Duration}}\"\n",
		want: []string{
			"rules.yaml:9:17: rule \"a\", send to \"web\": parameter \"open\": \"{{Call.Duration\" opens a {{ reference that is never closed with }}",
			"rules.yaml:10:18: rule \"a\", send to \"web\": parameter \"empty\": {{}} is not a field reference; write a webhook parameter name such as {{Call.Duration}}",
			"rules.yaml:11:19: rule \"a\", send to \"web\": parameter \"spaced\": {{Call Duration}} is not a field reference; write a webhook parameter name such as {{Call.Duration}}",
		},
	},
	{
		name: "value and currency",
		yaml: head + "  - name: a\n    send:\n      - to: web\n        event: x\n        value: 5\n        params:\n          value: fifty\n          currency: aud\n  - name: b\n    send:\n      - to: web\n        event: y\n        params: {value: \"{{Call.Duration}} AUD\", currency: AUD}\n",
		want: []string{
			"rules.yaml:8:9: rule \"a\", send to \"web\": value belongs under params: (a GA4 event carries value and currency as parameters)",
			"rules.yaml:10:18: rule \"a\", send to \"web\": parameter \"value\" must be a number (GA4 sums it as revenue), got the text \"fifty\"",
			"rules.yaml:11:21: rule \"a\", send to \"web\": parameter \"currency\" must be a three-letter ISO 4217 code in capitals such as AUD, got \"aud\"",
			"rules.yaml:16:25: rule \"b\", send to \"web\": parameter \"value\" mixes text and references, so it is text; GA4 needs a number: give one reference such as {{Call.Survey.Value}} or a constant",
		},
	},
	{
		name: "bad matcher values",
		yaml: head + "  - name: a\n    when:\n      number_type: Mobile\n      has_gclid: \"yes\"\n      disposition: []\n      stop: true\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:6:20: rule \"a\": number_type \"Mobile\" is not a number type; use Static or Dynamic",
			"rules.yaml:7:18: rule \"a\": has_gclid must be true or false, got \"yes\"",
			"rules.yaml:8:20: rule \"a\": disposition needs at least one value",
			"rules.yaml:9:7: rule \"a\": unknown key \"stop\" in when; known keys: event, disposition, min_duration, max_duration, property, account, number_name, number_type, traffic_type, survey_type, has_client_id, has_gclid, has_survey_value, source, medium, campaign, min_survey_value, max_survey_value, has_caller_phone, country, first_call_within_days, expr",
		},
	},
	{
		name: "duplicate keys",
		yaml: head + "  - name: a\n    when:\n      disposition: ANSWERED\n      disposition: BUSY\n    send: [{to: web, event: x, params: {n: 1, n: 2}}]\n",
		want: []string{
			"rules.yaml:7:7: rule \"a\": key \"disposition\" is given twice in when (first at line 6)",
			"rules.yaml:8:47: rule \"a\", send to \"web\": parameter \"n\" is given twice (first at line 8)",
		},
	},
	{
		name: "missing and empty send",
		yaml: head + "  - name: a\n    when: {disposition: ANSWERED}\n  - name: b\n    send: []\n  - name: c\n    send: web\n",
		want: []string{
			"rules.yaml:4:5: rule \"a\": send is missing: list what to send, e.g. send: [{to: web, event: phone_call}]",
			"rules.yaml:7:11: rule \"b\": send is empty: list at least one action",
			"rules.yaml:9:11: rule \"c\": send must be a list of actions, got \"web\"",
		},
	},
	{
		name: "more than one document",
		yaml: head + "  - name: a\n    send: [{to: web, event: x}]\n---\nrules: []\n",
		want: []string{"rules.yaml:6:1: the file holds more than one YAML document (---); put everything in one"},
	},
	{
		name: "merge keys",
		yaml: "base: &base {to: web}\n" + head + "  - name: a\n    send: [{<<: *base, event: x}]\n",
		want: []string{
			"rules.yaml:1:1: unknown key \"base\" in the rules file; known keys: destinations, rules, settings",
			"rules.yaml:6:12: rule \"a\": to is missing: name the destination to send to",
			"rules.yaml:6:13: rule \"a\": merge keys (<<) are not supported; repeat the keys or use an alias for the whole value",
		},
	},
	{
		name: "destination without type, or not a mapping",
		yaml: "destinations:\n  web: {measurement_id: G-TEST1234}\n  other: ga4\nrules:\n  - name: a\n    send: [{to: web, event: x}]\n",
		want: []string{
			"rules.yaml:2:8: destination \"web\": type is missing; known types: ga4, google_ads, ua",
			"rules.yaml:3:10: destination \"other\": a destination must be a mapping with a type (one of ga4, google_ads, ua), got \"ga4\"",
		},
	},
	{
		name: "conversion action on a ga4 destination",
		yaml: head + "  - name: a\n    send: [{to: web, conversion_action: '123'}]\n",
		want: []string{
			"rules.yaml:5:12: rule \"a\", send to \"web\": event is missing: give the GA4 event name to send, e.g. event: phone_call",
			"rules.yaml:5:22: rule \"a\", send to \"web\": conversion_action is for google_ads destinations; this destination is ga4 (send an event: with params: instead)",
		},
	},
	{
		name: "google_ads destination problems",
		yaml: "destinations:\n  ads:\n    type: google_ads\n    customer_id: 123-456-789\n    login_customer_id: abc\n    backend: datamanager\n  other: {type: google_ads}\nrules:\n  - name: a\n    send: [{to: ads, conversion_action: '1'}, {to: other, conversion_action: '2'}]\n",
		want: []string{
			"rules.yaml:4:18: destination \"ads\": customer_id \"123-456-789\" is not a Google Ads customer id: 10 digits, with or without dashes, such as 123-456-7890",
			"rules.yaml:5:24: destination \"ads\": login_customer_id \"abc\" is not a Google Ads customer id: 10 digits, with or without dashes, such as 123-456-7890",
			"rules.yaml:6:14: destination \"ads\": backend \"datamanager\" is not one of data_manager, google_ads_api (did you mean data_manager?)",
			"rules.yaml:7:10: destination \"other\": customer_id is missing: give the Google Ads account that owns the conversion actions, e.g. customer_id: 123-456-7890 (shown at the top of Google Ads)",
		},
	},
	{
		name: "conversion action missing or malformed",
		yaml: adsHead + "  - name: a\n    send: [{to: ads, value: 5, currency: AUD}]\n  - name: b\n    send: [{to: ads, conversion_action: customers/1234567890/conversionActions/987}]\n  - name: c\n    send: [{to: ads, conversion_action: AW-123456/abc}]\n",
		want: []string{
			"rules.yaml:5:12: rule \"a\", send to \"ads\": conversion_action is missing: give the id of the Google Ads conversion action to record, e.g. conversion_action: \"987654321\" (in Google Ads, Goals > Conversions: open the action, its id is the ctId in the address)",
			"rules.yaml:7:41: rule \"b\", send to \"ads\": conversion_action \"customers/1234567890/conversionActions/987\" is not a conversion action id, which is digits only (give only the id at the end: \"987\")",
			"rules.yaml:9:41: rule \"c\", send to \"ads\": conversion_action \"AW-123456/abc\" is not a conversion action id, which is digits only",
		},
	},
	{
		name: "call conversions need the Google Ads API",
		yaml: adsHead + "  - name: a\n    send: [{to: ads, conversion_action: '1', kind: call}]\n  - name: b\n    send: [{to: ads, conversion_action: '1', kind: calls}]\n",
		want: []string{
			"rules.yaml:5:52: rule \"a\", send to \"ads\": kind: call uploads call conversions with the Google Ads API, which destination \"ads\" does not use: set backend: google_ads_api on it (line 2), or use kind: click",
			"rules.yaml:7:52: rule \"b\", send to \"ads\": kind \"calls\" is not one of click, call (did you mean call?)",
		},
	},
	{
		name: "bad values",
		yaml: adsHead + "  - name: a\n    send:\n      - to: ads\n        conversion_action: '1'\n        value: fifty\n        currency: AUD\n  - name: b\n    send: [{to: ads, conversion_action: '1', value: \"{{Call.Disposition}}\", currency: AUD}]\n  - name: c\n    send: [{to: ads, conversion_action: '1', value: -5, currency: AUD}]\n  - name: d\n    send: [{to: ads, conversion_action: '1', value: \"{{Call.Duration}} AUD\", currency: AUD}]\n  - name: e\n    send: [{to: ads, conversion_action: '1', value: true, currency: AUD}]\n  - name: f\n    send: [{to: ads, conversion_action: '1', value: \"{{Crm.Value}}\", currency: AUD}]\n",
		want: []string{
			"rules.yaml:8:16: rule \"a\", send to \"ads\": value must be a number, or one reference to a numeric field such as {{Call.Survey.Value}}; got the text \"fifty\" (write numbers without quotes or currency signs)",
			"rules.yaml:11:53: rule \"b\", send to \"ads\": value reads {{Call.Disposition}}, which is not a number; Google Ads needs a number: use a numeric field ({{Call.Duration}}, {{Call.Survey.Value}}) or a constant",
			"rules.yaml:13:53: rule \"c\", send to \"ads\": value must not be negative (Google Ads refuses it), got -5",
			"rules.yaml:15:53: rule \"d\", send to \"ads\": value mixes text and references, so it is text; Google Ads needs a number: give one reference such as {{Call.Survey.Value}} or a constant",
			"rules.yaml:17:53: rule \"e\", send to \"ads\": value must be a number, or one reference to a numeric field such as {{Call.Survey.Value}}; got \"true\"",
			"rules.yaml:19:53: rule \"f\", send to \"ads\": value reads {{Crm.Value}}, which is not a number; Google Ads needs a number: use a numeric field ({{Call.Duration}}, {{Call.Survey.Value}}) or a constant",
		},
	},
	{
		name: "value without currency, bad currency",
		yaml: adsHead + "  - name: a\n    send:\n      - to: ads\n        conversion_action: '1'\n        value: 50\n  - name: b\n    send: [{to: ads, conversion_action: '1', value: 50, currency: aud}]\n",
		want: []string{
			"rules.yaml:8:9: rule \"a\", send to \"ads\": value needs a currency: add e.g. currency: AUD (a three-letter ISO 4217 code)",
			"rules.yaml:10:67: rule \"b\", send to \"ads\": currency must be a three-letter ISO 4217 code in capitals such as AUD, got \"aud\"",
		},
	},
	{
		name: "default_value problems",
		yaml: adsHead + "  - name: a\n    send: [{to: ads, conversion_action: '1', default_value: 5}]\n  - name: b\n    send: [{to: ads, conversion_action: '1', value: 50, default_value: 5, currency: AUD}]\n  - name: c\n    send: [{to: ads, conversion_action: '1', value: \"{{Call.Survey.Value}}\", default_value: -1, currency: AUD}]\n  - name: d\n    send: [{to: ads, conversion_action: '1', value: \"{{Call.Survey.Value}}\", default_value: \"10\", currency: AUD}]\n",
		want: []string{
			"rules.yaml:5:61: rule \"a\", send to \"ads\": default_value without value: default_value is what value is when the field it reads is missing; give value: too, or use value: alone for a fixed value",
			"rules.yaml:7:72: rule \"b\", send to \"ads\": default_value only applies when value reads a field such as {{Call.Survey.Value}}; value here is a constant, so remove default_value",
			"rules.yaml:9:93: rule \"c\", send to \"ads\": default_value must be a number, 0 or more, got \"-1\"",
			"rules.yaml:11:93: rule \"d\", send to \"ads\": default_value must be a number, 0 or more, got \"10\"",
		},
	},
	{
		name: "caller_phone and time",
		yaml: "destinations:\n  ads: {type: google_ads, customer_id: 123-456-7890, backend: google_ads_api}\nrules:\n  - name: a\n    send: [{to: ads, conversion_action: '1', caller_phone: sha256, time: finish}]\n  - name: b\n    send: [{to: ads, conversion_action: '1', kind: call, caller_phone: hashed, time: start}]\n",
		want: []string{
			"rules.yaml:5:60: rule \"a\", send to \"ads\": caller_phone \"sha256\" is not one of none, hashed",
			"rules.yaml:5:74: rule \"a\", send to \"ads\": time \"finish\" is not one of start, end",
			"rules.yaml:7:72: rule \"b\", send to \"ads\": caller_phone: hashed does not apply to kind: call: a call conversion carries the caller's number in clear, as Google requires; remove caller_phone",
			"rules.yaml:7:86: rule \"b\", send to \"ads\": time: start cannot be used with kind: call: Google Ads wants a call conversion's time after the call's start; use time: end (the default for calls)",
		},
	},
	{
		name: "consent problems",
		yaml: adsHead + "  - name: a\n    send: [{to: ads, conversion_action: '1', consent: granted}]\n  - name: b\n    send: [{to: ads, conversion_action: '1', consent: {ad_user_data: maybe}}]\n  - name: c\n    send: [{to: ads, conversion_action: '1', consent: {ad_personalization: granted}}]\n",
		want: []string{
			"rules.yaml:5:55: rule \"a\", send to \"ads\": consent must be a mapping (key: value pairs), got \"granted\"",
			"rules.yaml:7:70: rule \"b\", send to \"ads\": ad_user_data \"maybe\" is not one of granted, denied",
			"rules.yaml:9:55: rule \"c\", send to \"ads\": consent needs ad_user_data: granted or denied (whether the caller agreed to their data being used for advertising)",
			"rules.yaml:9:56: rule \"c\", send to \"ads\": ad_personalization cannot be sent with conversions: Google only takes ad_user_data there",
		},
	},
	{
		name: "settings problems",
		yaml: "settings:\n  default_region: au\n  region: AU\n" + adsHead + "  - name: a\n    send: [{to: ads, conversion_action: '1'}]\n",
		want: []string{
			"rules.yaml:2:19: settings: default_region \"au\" is not a country code: give the ISO 3166-1 alpha-2 code, in capitals, of the country whose national numbers callers use, such as AU (did you mean AU?)",
			"rules.yaml:3:3: unknown key \"region\" in settings; known keys: default_region, consent",
		},
	},
	{
		name: "United Kingdom is GB",
		yaml: "settings: {default_region: UK}\n" + adsHead + "  - name: a\n    send: [{to: ads, conversion_action: '1'}]\n",
		want: []string{
			"rules.yaml:1:28: settings: default_region \"UK\" is not a country code: give the ISO 3166-1 alpha-2 code, in capitals, of the country whose national numbers callers use, such as AU (the United Kingdom is GB)",
		},
	},
	{
		name: "settings not a mapping",
		yaml: "settings: [AU]\n" + adsHead + "  - name: a\n    send: [{to: ads, conversion_action: '1'}]\n",
		want: []string{
			"rules.yaml:1:11: settings must be a mapping (key: value pairs), got a list",
		},
	},
	{
		name: "ga4 keys on a google_ads action",
		yaml: adsHead + "  - name: a\n    send:\n      - to: ads\n        conversion_action: '1'\n        event: qualified_call\n        params: {value: 5}\n        gclid: \"{{Google.AdWords.ClickId}}\"\n        order_id: \"{{Call.Sid}}\"\n        customer_id: 123-456-7890\n",
		want: []string{
			"rules.yaml:8:9: rule \"a\", send to \"ads\": event is for ga4 destinations; this destination is google_ads (give the conversion_action: id instead)",
			"rules.yaml:9:9: rule \"a\", send to \"ads\": params is for ga4 destinations; a google_ads action takes value:, currency: and its other keys directly",
			"rules.yaml:10:9: rule \"a\", send to \"ads\": the click id is read from the call (Google.AdWords.ClickId); there is nothing to set",
			"rules.yaml:11:9: rule \"a\", send to \"ads\": the transaction (order) id is derived from the call and the rule, so that Google counts each conversion once; there is nothing to set",
			"rules.yaml:12:9: rule \"a\", send to \"ads\": customer_id belongs to the destination (under destinations:), not to the action",
		},
	},
	{
		name: "ua destination problems",
		yaml: "destinations:\n  a: {type: ua}\n  b: {type: ua, tracking_id: G-TEST1234}\n  c: {type: ua, tracking_id: UA-1234, measurement_id: G-TEST1234}\n  d: {type: ua, tracking_id: [UA-1-1]}\nrules:\n  - name: r\n    send: [{to: a, category: c, action: a}, {to: b, category: c, action: a}, {to: c, category: c, action: a}, {to: d, category: c, action: a}]\n",
		want: []string{
			"rules.yaml:2:6: destination \"a\": tracking_id is missing: give the Universal Analytics property id, e.g. tracking_id: UA-12345-1",
			"rules.yaml:3:30: destination \"b\": tracking_id \"G-TEST1234\" is not a Universal Analytics property id (UA-, digits, -, digits, such as UA-12345-1) (that is a GA4 measurement id: use type: ga4 with measurement_id:)",
			"rules.yaml:4:30: destination \"c\": tracking_id \"UA-1234\" is not a Universal Analytics property id (UA-, digits, -, digits, such as UA-12345-1)",
			"rules.yaml:4:39: destination \"c\": unknown key \"measurement_id\" in the destination; known keys: type, tracking_id",
			"rules.yaml:5:30: destination \"d\": tracking_id must be a text value, got a list",
		},
	},
	{
		name: "ua action problems",
		yaml: uaHead + "  - name: a\n    send:\n      - to: legacy\n        label: \"{{Call.From}}\"\n        value: -1\n        non_interaction: yes please\n        campaign: 1\n        event: phone_call\n        currency: AUD\n  - name: b\n    send:\n      - to: legacy\n        category: \"" + longText(151) + "\"\n        action: \"{{Google.Analytics.ClientId}}\"\n        value: \"{{Call.Disposition}}\"\n  - name: c\n    send:\n      - to: legacy\n        category: {expr: call.event}\n        action: \"" + strings.Repeat("é", 251) + "\"\n        label: true\n        value: \"50\"\n  - name: d\n    send:\n      - to: legacy\n        category: \"{{Call.Endpoint}}\"\n        action: \"x {{Call.Recording.Uri}}\"\n        label: \"{{Google.AdWords.ClickId}}\"\n        value: 12.5\n  - name: e\n    send: [{to: legacy, category: c, action: a, value: \"{{Call.Duration}} s\"}]\n",
		want: []string{
			"rules.yaml:6:9: rule \"a\", send to \"legacy\": category is missing: give the event category, e.g. category: Phone call",
			"rules.yaml:6:9: rule \"a\", send to \"legacy\": action is missing: give the event action, e.g. action: \"{{Call.Disposition}}\"",
			"rules.yaml:7:16: rule \"a\", send to \"legacy\": label: {{Call.From}} cannot be sent to Universal Analytics: it is the caller's phone number, and Google's policy forbids personal data in Universal Analytics event parameters",
			"rules.yaml:8:16: rule \"a\", send to \"legacy\": value must be a whole number, 0 or more, or one reference to a numeric field such as {{Call.Duration}}; got -1",
			"rules.yaml:9:26: rule \"a\", send to \"legacy\": non_interaction must be true or false, got \"yes please\"",
			"rules.yaml:10:19: rule \"a\", send to \"legacy\": campaign must be true or false, got \"1\"",
			"rules.yaml:11:9: rule \"a\", send to \"legacy\": event is for ga4 destinations; this destination is ua (give category: and action:)",
			"rules.yaml:12:9: rule \"a\", send to \"legacy\": a Universal Analytics event value has no currency; remove it",
			"rules.yaml:16:19: rule \"b\", send to \"legacy\": category is 151 characters long; Universal Analytics accepts at most 150",
			"rules.yaml:17:17: rule \"b\", send to \"legacy\": action: {{Google.Analytics.ClientId}} cannot be sent to Universal Analytics: it identifies the website visitor; Universal Analytics already receives it as the event's client id, and Google's policy forbids identifiers in event parameters",
			"rules.yaml:18:16: rule \"b\", send to \"legacy\": value reads {{Call.Disposition}}, which is not a number; a Universal Analytics event value is a whole number: use a numeric field ({{Call.Duration}}, {{Call.Survey.Value}}) or a constant",
			"rules.yaml:22:19: rule \"c\", send to \"legacy\": category must be a text with optional {{Field}} references, got a mapping (key: value pairs)",
			"rules.yaml:23:17: rule \"c\", send to \"legacy\": action is 502 bytes long; Universal Analytics accepts at most 500",
			"rules.yaml:24:16: rule \"c\", send to \"legacy\": label: true/false values cannot be sent to Universal Analytics, which accepts numbers and texts only; use 1/0 or quote the text (\"true\")",
			"rules.yaml:25:16: rule \"c\", send to \"legacy\": value must be a whole number, 0 or more, or one reference to a numeric field such as {{Call.Duration}}; got the text \"50\" (write numbers without quotes)",
			"rules.yaml:29:19: rule \"d\", send to \"legacy\": category: {{Call.Endpoint}} cannot be sent to Universal Analytics: it is the phone number the call was transferred to, and Google's policy forbids personal data in Universal Analytics event parameters",
			"rules.yaml:30:17: rule \"d\", send to \"legacy\": action: {{Call.Recording.Uri}} cannot be sent to Universal Analytics: the recording holds the caller's voice and number, and Google's policy forbids personal data in Universal Analytics event parameters",
			"rules.yaml:31:16: rule \"d\", send to \"legacy\": label: {{Google.AdWords.ClickId}} cannot be sent to Universal Analytics: it is the Google Ads click id; Universal Analytics reserves gclid and Google's policy forbids identifiers in event parameters (send it to Google Ads instead)",
			"rules.yaml:32:16: rule \"d\", send to \"legacy\": value must be a whole number, 0 or more, or one reference to a numeric field such as {{Call.Duration}}; got \"12.5\"",
			"rules.yaml:34:56: rule \"e\", send to \"legacy\": value mixes text and references, so it is text; a Universal Analytics event value is a whole number: give one reference such as {{Call.Duration}} or a constant",
		},
	},
}

// longText returns n characters of text.
func longText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return string(b)
}

// manyParams returns n constant parameters in flow style.
func manyParams(n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += "p" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": 1"
	}
	return s
}
