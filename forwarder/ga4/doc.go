// Package ga4 sends phone-call events to Google Analytics 4 through the
// Measurement Protocol: one [forwarder.Delivery] becomes one POST to
// /mp/collect with a single event.
//
// The Measurement Protocol gives no success signal: the collect endpoint
// answers 2xx to anything that reaches it and silently drops what it cannot
// use. So the sender refuses locally what Google would drop without a word
// (an event past the 72-hour backdating limit, a delivery without client id
// or event name, a measurement id without an API secret) and returns those
// as permanent errors, which end up in the dead-letter queue with a reason
// instead of vanishing. The debug endpoint (/debug/mp/collect) is reached
// through [Sender.Validate], for `check`, tests and the emulator.
//
// Senders classify, they never retry: the reply is mapped to
// [forwarder.Transient], [forwarder.RetryAfter] or [forwarder.Permanent] and
// the deliverer owns the schedule. Every error text is safe to log: the API
// secret travels in the query string, so the query is stripped from
// transport errors, and response excerpts are scrubbed of the secret and the
// client id.
//
// Each event carries engagement_time_msec (1 when the rule did not set it)
// because without it GA4 does not count the user as active, and the event
// time as a request-level timestamp_micros so the call lands at the time it
// happened, not when it was delivered.
package ga4
