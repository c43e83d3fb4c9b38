// Package forwarder holds the vocabulary shared by every part of callforward:
// the decoded phone call ([Call]), the deliveries planned for it ([Delivery]),
// and the error kinds a sender returns so that one place decides about
// retries ([Permanent], [Transient], [RetryAfter]).
//
// The package does no I/O. Intake (webhook, httpapi, ingest), planning
// (mapping), storage (store/...) and delivery (deliver, ga4, ...) all speak
// in these types, so each of them can be tested alone.
package forwarder
