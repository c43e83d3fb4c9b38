// Package googleads sends Google Ads offline conversions: the deliveries
// whose Ads field is set ([forwarder.AdsConversion]), through one of two
// backends.
//
// The Data Manager API (events:ingest, the default and Google's path for
// new conversion importers) is described by the generated client
// google.golang.org/api/datamanager/v1. The sender writes the request
// body itself ([AppendIngestRequest]): the bytes the client would encode
// for [BuildIngestRequest], which the tests hold it to, without the
// client's reflection and re-compaction (forty times the cost and more). It
// posts them with the client's URL and headers and reads the answer with
// the client's types. Its error model is fast-fail: one
// bad event fails the whole request. So every conversion is checked
// locally first ([Validate]) and a bad one fails alone, as
// [forwarder.Permanent], without being sent. When Google still refuses a
// batch (400 INVALID_ARGUMENT), the sender reads the field violations of
// the answer: if they name events (events[3]...), those events fail as
// Permanent with Google's reason and the rest of the batch is sent once
// more; if they do not, or the second attempt fails too, every event of
// the batch fails as Permanent with Google's reason. Bisecting a batch
// without hints was rejected: it costs up to log2(2000) requests of
// quota for an error the local checks should have caught.
//
// The Google Ads API (uploadClickConversions, uploadCallConversions) is
// called over REST with hand-written JSON, since there is no Go client.
// Its error model is partial failure: HTTP 200 carries a
// partialFailureError whose errors name their row (conversions[i]); an
// empty results[i] marks a failed row. Each row gets its own outcome:
// *_ALREADY_EXISTS is success (the conversion is at Google), TOO_RECENT_*
// waits as long as Google asks (6 h, 12 h for calls), internal,
// concurrency and quota errors are transient, the rest permanent.
// CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE is permanent with a message
// telling the operator to switch the destination to the data_manager
// backend.
//
// Request-level failures are classified alike for both backends, and
// like GA4's, by the policy in httpreply: 400, 403 and 404 are permanent
// (payload or configuration), 401 is transient and drops the cached
// access token, 408, 429 and 5xx are transient (RetryAfter when Google
// sends Retry-After), network errors transient. A
// token endpoint refusing the refresh token (invalid_grant) is transient
// too, with code oauth_invalid_grant: deliveries wait while an operator
// renews the credentials, instead of being dead-lettered by the thousand.
//
// [Sender.SendBatch] groups deliveries by [BatchKey] (backend, customer,
// login customer, kind) and sends at most [MaxBatch] per request; its
// result is index-aligned with its input. Error texts never hold tokens,
// GCLIDs, caller ids nor hashed identifiers: Google's messages are
// scrubbed of the values of the batch before they are quoted.
package googleads
