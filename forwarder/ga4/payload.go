package ga4

import (
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// MaxEventAge is GA4's backdating limit: an event whose timestamp_micros is
// older than this when it reaches Google is not recorded.
const MaxEventAge = 72 * time.Hour

// inFlightMargin is kept free below MaxEventAge for the time a request
// spends on its way: an event that would reach Google just past the limit
// is dropped there in silence, so it is refused here with a reason.
const inFlightMargin = time.Minute

// engagementParam makes GA4 count the user as active; 0 zeroes active users.
const engagementParam = "engagement_time_msec"

// BuildPayload returns the exact JSON body the sender posts for d at time
// now. It fails with a permanent error when Google could not record the
// event: no GA4 event, no client id or event name, or an event time older
// than GA4 accepts (code "event_too_old"). An event time in the future
// (clock skew) is left out, so Google uses the time it receives the event.
// User properties, when the event has any, are sent as
// "user_properties": {"name": {"value": v}}, and its consent as the
// request-level "consent": {"ad_user_data": "GRANTED", ...}. The delivery's params are not
// modified.
func BuildPayload(d forwarder.Delivery, now time.Time) ([]byte, error) {
	d = d.CleanTexts()
	ts, err := checkEvent(d, now)
	if err != nil {
		return nil, err
	}
	body, err := appendPayload(make([]byte, 0, 320), d.GA4, ts)
	if err != nil {
		return nil, forwarder.Permanent("bad_params", fmt.Errorf("ga4: delivery %s: encode payload: %w", d.ID, err))
	}
	return body, nil
}

// checkEvent refuses what Google could not record (see BuildPayload) and
// returns the event time in microseconds, 0 when unknown or in the future.
func checkEvent(d forwarder.Delivery, now time.Time) (int64, error) {
	ev := d.GA4
	switch {
	case ev == nil:
		return 0, forwarder.Permanent("no_ga4_event", fmt.Errorf("ga4: delivery %s has no GA4 event", d.ID))
	case ev.ClientID == "":
		return 0, forwarder.Permanent("no_client_id", fmt.Errorf("ga4: delivery %s has no client id", d.ID))
	case ev.Name == "":
		return 0, forwarder.Permanent("no_event_name", fmt.Errorf("ga4: delivery %s has no event name", d.ID))
	}
	return timestampMicros(d, now)
}

// timestampMicros returns the event time of d in microseconds, or 0 when
// the time is unknown or in the future.
func timestampMicros(d forwarder.Delivery, now time.Time) (int64, error) {
	t := d.GA4.Time
	if t.IsZero() {
		t = d.CallTime
	}
	if t.IsZero() {
		return 0, nil
	}
	age := now.Sub(t)
	if age < 0 {
		return 0, nil
	}
	if age > MaxEventAge-inFlightMargin {
		return 0, forwarder.Permanent("event_too_old", fmt.Errorf(
			"ga4: delivery %s: event time %s is %s old, past GA4's %s backdating limit",
			d.ID, t.UTC().Format(time.RFC3339), age.Truncate(time.Second), MaxEventAge))
	}
	return t.UnixMicro(), nil
}
