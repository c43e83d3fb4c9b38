// Package ga4 sends phone-call events to Google Analytics 4 through the
// Measurement Protocol: each [forwarder.Delivery] is one event, posted to
// /mp/collect.
//
// Events share a request when GA4 allows it: [Sender.SendBatch] packs the
// deliveries with equal [BatchKey] (measurement id, client id and user
// properties, the request-level fields that apply to every event of a
// request) into requests of at most [MaxBatch] events and fewer than
// [MaxBodyBytes] bytes. A request's reply settles the deliveries it
// carried and no other. A request of one event is exactly [BuildPayload]'s
// body; in a request of several, each event carries its own
// timestamp_micros, since events of different calls happen at different
// times. [Sender.BatchLimits] tells the delivery workers to gather at most
// MaxBatch events and to wait no longer than [BatchWindow] for them: the
// events of one call are planned and claimed together, so a long wait
// would only delay them.
//
// The Measurement Protocol gives no success signal: the collect endpoint
// answers 2xx to anything that reaches it and silently drops what it cannot
// use. So the sender refuses locally what Google would drop without a word
// (an event past the 72-hour backdating limit, a delivery without client id
// or event name, a measurement id without an API secret, a request too
// large) and returns those as permanent errors, which end up in the
// dead-letter queue with a reason instead of vanishing. The debug endpoint
// (/debug/mp/collect) is reached through [Sender.Validate] and
// [Sender.ValidateBatch], which post exactly what Send and SendBatch
// would, for `check`, tests and the emulator.
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
// time as timestamp_micros so the call lands at the time it happened, not
// when it was delivered.
package ga4
