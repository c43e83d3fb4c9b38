// Package emulator is a local stand-in for the Google endpoints callforward
// talks to, faithful enough that tests, the `demo` command and benchmarks
// can run the real senders against it and assert what Google would have
// kept.
//
// One [Server] serves every emulated API from one mux, whatever the Host
// header says, so a sender only needs its base URL pointed at it. Each API
// lives in its own files (ga4*.go for the GA4 Measurement Protocol, ua*.go
// for the legacy Universal Analytics Measurement Protocol v1); the
// control endpoints under /emulator/ let another process inspect and steer
// the server:
//
//	GET  /emulator/ga4/events   {"events":[...],"dropped":[...]}: what /mp/collect kept and dropped
//	GET  /emulator/ua/hits      {"hits":[...],"dropped":[...]}: what /collect (UA, legacy) kept and dropped
//	GET  /emulator/summary      counts and first/last arrival times of every recording (cheap to poll)
//	POST /emulator/reset        forget everything; restore the faults and random stream given to New
//	GET  /emulator/faults       the current Faults as JSON
//	PUT  /emulator/faults       replace them (400 on rates outside [0,1] or summing past 1)
//
// Faithfulness means Google's quirks, not a friendlier API: /mp/collect
// answers 204 to anything that reaches it, valid or not, and records an
// invalid event only in [Server.GA4Dropped], with the findings Google's
// validation server would have reported; /debug/mp/collect reports those
// findings and records nothing. Where Google's exact behaviour is not
// documented the emulator is stricter rather than laxer (unknown JSON
// fields, a measurement id that does not look like G-XXXX), so a payload
// that passes here is one Google would keep.
//
// A Measurement Protocol request carries up to 25 events for one client
// id: a finding about one event drops that event, a finding about the
// request (26 events or more, the client id, the user properties, which
// apply to every event) drops them all. Each recorded event keeps the
// request-level fields it was sent with and the number of the request
// that carried it, so tests can see how events were batched.
//
// The Google side (OAuth, Data Manager, Google Ads) is steered by
// [AdsConfig]: the OAuth consent screen (GET /o/oauth2/auth) consents at
// once and redirects to the loopback redirect_uri with a code and the
// state, and the token endpoint exchanges the code once, checking its PKCE
// verifier; the scopes consented to stay with the refresh token and every
// access token it gives, so an API refuses a token without its scope as
// Google does. The accounts the user reaches (directly or through a
// manager, the login customer id), their conversion actions and the
// developer tokens are checked by events:ingest, the uploads and
// googleAds:search alike, with or without validateOnly, which validates
// everything and records nothing.
//
// Data Manager's requestStatus:retrieve reports on every request
// events:ingest accepted: PROCESSING for [ProcessingConfig.DelayMS], then
// SUCCESS, PARTIAL_SUCCESS or FAILED per destination, with error counts by
// reason for the events whose click starts with a prefix of
// [ProcessingConfig.RejectGCLIDPrefixes] (recordIndices are positions in
// the request's events[], or left out with OmitIndices). Every poll is
// timed, and [Server.RequestStatusPolls] counts those that came sooner
// than MinPollGapMS after the previous poll of the same request.
//
// Faults (5xx, 429, hangs, delays) are drawn from a seeded math/rand stream,
// one draw per API request, before the request is handled: a faulted request
// records nothing, and a given seed and request count always give the same
// number of each fault, whatever the interleaving.
package emulator
