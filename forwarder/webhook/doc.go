// Package webhook turns a Fone Dynamics webhook request into a
// [forwarder.Call], or into a [FieldError] that names the parameter at fault.
//
// Decoding happens in two steps so that each can be tested and replayed on
// its own:
//
//   - [Params] extracts the flat dotted parameters (Call.Sid, Call.From, ...)
//     from a GET query string or a POST body (form, multipart form fields or
//     a JSON object, nested objects flattened with '.'). It knows about
//     encodings, not about meanings.
//   - [Decode] validates those parameters and builds the Call. It accepts any
//     url.Values and never panics, so a stored raw request can be decoded
//     again later (replay) with the same result.
//
// # Leniency
//
// The platform and the proxies in front of it are not always tidy, and a
// rejected webhook is a lost conversion, so Decode is strict only where a
// wrong value would corrupt something downstream: the call id (part of
// delivery IDs and the dedup key), the start date, the integers, the GA
// client id and the GCLID (both sent to Google as they are). Everywhere
// else it repairs or keeps:
//
//   - a value is trimmed of surrounding whitespace, and an empty value means
//     "unknown", exactly as if the parameter were absent;
//   - a phone number sent in an unencoded GET query (" 61412345678", the
//     '+' decoded as a space) gets its '+' back, and separators inside an
//     international number ("+61 (0)2 9123-4567") are removed; a number that
//     is still not E.164 is kept as given rather than rejected, because a
//     GCLID or client id may still make the call convertible (senders that
//     need E.164, such as enhanced conversions, check it themselves);
//   - dispositions are upper-cased and NO_ANSWER/NOANSWER become "NO ANSWER";
//     unknown dispositions and events of the form Word.Word are kept, so
//     rules can match what a newer platform sends;
//   - parameters this version does not know go to Call.Extra.
//
// A parameter given twice with different values is not guessed at.
//
// Only the parameters that identify the call are required: Action, Event,
// Call.Sid, Call.StartDate (not before 1970, not more than a day ahead of
// the clock) and the Call.Duration of a Call.Complete. A problem with one
// of them, or with the request as a whole, is a FieldError. Any other
// parameter whose value is malformed (a survey value of 12.5, a client id
// that is not one, a value that is not UTF-8, over 4096 bytes or given
// twice with different values) is left out and listed in Call.Dropped
// with the reason, and the call is kept.
//
// # Errors and personal data
//
// Validation runs in a fixed order (request-wide checks, then Action, Event,
// Call.Sid, Call.StartDate and the other fields in documentation order), so
// a request with several problems always reports the same one. A
// FieldError's Problem quotes the offending value only for fields that carry
// no personal data: phone numbers, GA client ids and GCLIDs are never
// echoed, so a FieldError can be logged and returned to the sender.
//
// # Cost
//
// Decode runs on every webhook: it walks the parameters once, looks known
// fields up in a fixed table and validates with small loops rather than
// regular expressions or reflection. JSON bodies go through encoding/json's
// token stream, which is slower than form parsing but lets duplicate keys
// and arrays be reported instead of silently resolved.
package webhook
