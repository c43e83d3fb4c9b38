package bolt

// dictRecords1Text is the dictionary dictRecords1: the JSON of a call and
// of job records (Google Ads, GA4, done) with their field names in the
// order encoding/json writes them and the values most records share, so
// that a record's compressed form holds little more than what is its own.
// Content near the end is the cheapest to refer to: the done record,
// the most numerous, comes last.
//
// It must never change (TestDictionariesFixed): values written with it
// are read with it.
const dictRecords1Text = "" +
	`{"action":"Webhook","event":"Call.Initiate","account_sid":"AC","property_sid":"PR","property_name":"www.","property_type":"Site","sid":"CA","start_date":"2026-01-01T00:00:00Z","from":"+","from_country":"","from_region":"","from_city":"","to":"+","to_type":"Static","to_name":"","duration":0,"disposition":"NO ANSWER","recording_uri":"https://","endpoint":"+","survey":{"type":"","value":0,"custom1":"","custom2":"","custom3":"","unique_code":""},"prompts":{"postcodes":[""],"keys":[""]},"extra":{"":""},"dropped":[{"field":"","reason":""}],"caller_history":{}}` +
	`{"action":"Webhook","event":"Call.Complete","account_sid":"AC","property_sid":"PR","property_name":"www.","property_type":"Site","sid":"CA","start_date":"2026-01-01T00:00:00Z","from":"+61","from_country":"Australia","from_region":"","from_city":"","to":"+61","to_type":"Dynamic","to_name":"Website","duration":` +
	`"disposition":"ANSWERED","recording_uri":"https://` +
	`.mp3","endpoint":"+61","attribution":{"source":"google","medium":"cpc","campaign":"","content":""},"session":{"traffic_type":"Campaign","keywords":"","conversion_uri":"https://www.` +
	`/contact","landing_uri":"https://www.` +
	`/?gclid=","ga_client_id":"","gclid":""}` +
	`{"job":{"delivery":{"id":"CA/","call_sid":"CA","rule":"","destination":"","type":"google_ads","call_time":"2026-01-01T00:00:00Z","ads":{"backend":"data_manager","kind":"click","customer_id":"","login_customer_id":"","conversion_action":"","time":"2026-01-01T00:00:00Z","call_start":"2026-01-01T00:00:00Z","gclid":"","hashed_phone":"","caller_id":"+","value":0,"currency":"AUD","transaction_id":"CA/","ad_user_data":"GRANTED"},"trace":"00-"},"attempts":0,"due_at":"2026-01-01T00:00:00.000000000Z","last_error":"","lease":"","history":[{"at":"2026-01-01T00:00:00.000000000Z","took":0,"result":"retry","code":"","error":"","request_id":""}],"verdict":{"outcome":"","reason":"","note":""}},"state":"dead","settled":"2026-01-01T00:00:00.000000000Z","reason":"","code":"","kind":"","request":""}` +
	`{"job":{"delivery":{"id":"CA/","call_sid":"CA","rule":"","destination":"","type":"ga4","call_time":"2026-01-01T00:00:00Z","ga4":{"measurement_id":"G-","client_id":"","name":"phone_call","params":{"duration":0,"outcome":"ANSWERED","value":0,"currency":"AUD"},"user_properties":{"":""},"time":"2026-01-01T00:00:00Z","consent":{"ad_user_data":"GRANTED","ad_personalization":"GRANTED"}}},"attempts":0,"due_at":"2026-01-01T00:00:00.000000000Z"},"state":"pending"}` +
	`{"job":{"delivery":{"id":"CA/","call_sid":"CA","rule":"","destination":"","type":"ga4","call_time":"2026-01-01T00:00:00Z"},"attempts":1,"due_at":"2026-01-01T00:00:00.000000000Z","history":[{"at":"2026-01-01T00:00:00.000000000Z","took":0,"result":"delivered"}]},"state":"done","settled":"2026-01-01T00:00:00.000000000Z"}`

// dictRecords1Start is where in dictRecords1Text a compressed value's
// first repeated match is looked for: the done record's start.
const dictRecords1Start = 2423
