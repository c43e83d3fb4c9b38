// Package ua sends phone-call events as legacy Universal Analytics hits
// through the Measurement Protocol v1: one [forwarder.Delivery] becomes one
// form-encoded POST to /collect with a single t=event hit.
//
// Legacy: Google stopped processing Universal Analytics hits on 1 July 2023
// (standard properties) and 1 July 2024 (360 properties); www.google-analytics.com
// may still answer 2xx but nothing is recorded. The package exists for
// collectors that still speak the UA protocol (self-hosted or third-party
// UA-compatible endpoints, pointed at through [Config.Endpoint]); new setups
// use package ga4.
//
// Like GA4, the protocol gives no success signal: /collect answers 200 with
// a 1x1 GIF to anything and drops in silence what it cannot use. So the
// sender refuses locally, as permanent errors that reach the dead-letter
// queue with a reason, what a collector would drop without a word: a
// tracking id that is not UA-XXXX-Y, a missing client id, category or
// action, a negative value, a field over its byte limit, a payload over
// 8 KB, and a hit older than the 4-hour queue-time limit (qt). The
// validation endpoint (/debug/collect) is reached through [Sender.Validate].
//
// Senders classify, they never retry: replies map to [forwarder.Transient],
// [forwarder.RetryAfter] or [forwarder.Permanent] as in package ga4, and the
// deliverer owns the schedule. The protocol has no secret; the client id
// travels in the body only, and reply excerpts are scrubbed of it, so
// every error text is safe to log.
//
// The hit time is sent as qt (queue time, ms), computed when the request is
// built: the collector dates the hit at receipt minus qt, so the time a
// request spends on its way does not age it. The cache buster z is derived
// from the delivery id rather than drawn at random, so a payload can be
// rebuilt byte for byte (for `explain` and golden tests); a POST body is not
// cached anyway.
package ua
