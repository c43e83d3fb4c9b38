// Package diagnose learns what Google made of the conversions it accepted.
// Data Manager answers events:ingest at once with a request id and
// processes the events afterwards (30 minutes to 24 hours), so a 200 is
// not yet a counted conversion. This package holds the schedule on which a
// request's status is asked for (Schedule) and the reading of
// requestStatus:retrieve's answer into one forwarder.Verdict per delivery
// (Read), and the Poller that asks as the store's pending polls fall due.
package diagnose
