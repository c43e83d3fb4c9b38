package googleads

import "time"

// adsDateTimeLayout is the Google Ads API date-time, "yyyy-mm-dd
// hh:mm:ss+|-hh:mm". The offset is mandatory: the layout says -07:00, not
// Z07:00, which would print Z for UTC and be refused.
const adsDateTimeLayout = "2006-01-02 15:04:05-07:00"

// AdsDateTime formats t for the Google Ads API, in UTC ("+00:00") to the
// second. A conversion keeps its time across retries, so the string is
// the same every time and Google's dedup on it holds.
func AdsDateTime(t time.Time) string {
	return t.UTC().Format(adsDateTimeLayout)
}

// timestamp formats t for the Data Manager API: RFC 3339 in UTC, to the
// second.
func timestamp(t time.Time) string {
	return string(appendTimestamp(nil, t))
}

// appendTimestamp appends t as timestamp formats it: an RFC 3339 time has
// nothing to escape in a JSON string.
func appendTimestamp(b []byte, t time.Time) []byte {
	return t.UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
}
