package ua

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// MaxQueueTime is the Measurement Protocol v1 queue-time limit: a hit whose
// qt is larger than this may be dropped by the collector.
const MaxQueueTime = 4 * time.Hour

// MaxPayloadBytes is the largest /collect body the protocol accepts.
const MaxPayloadBytes = 8192

// trackingIDPattern is the shape of a UA property id.
var trackingIDPattern = regexp.MustCompile(`^UA-\d+-\d+$`)

// campaignLimits are the campaign parameters a hit may carry, with their
// byte limits.
var campaignLimits = map[string]int{"cn": 100, "cs": 100, "cm": 50, "ck": 500, "cc": 500, "ci": 100}

// eventLimits are the byte limits of the event fields.
var eventLimits = map[string]int{"ec": 150, "ea": 500, "el": 500}

// paramOrder is the order parameters are encoded in; z comes last as the
// protocol asks for GET requests.
var paramOrder = []string{"v", "tid", "cid", "t", "ec", "ea", "el", "ev", "ni", "qt", "cn", "cs", "cm", "ck", "cc", "ci", "z"}

// BuildPayload returns the parameters the sender posts for d at time now.
// It fails with a permanent error when a collector could not record the
// hit: no UA hit, a tracking id that is not UA-XXXX-Y, no client id,
// category or action, a negative value, an unknown campaign parameter, a
// field over its byte limit ("value_too_long"), an encoded payload over
// MaxPayloadBytes ("payload_too_large"), or a hit time more than
// MaxQueueTime before now ("hit_too_old"). A hit time in the future (clock
// skew) or unknown leaves qt out, so the collector dates the hit at receipt.
func BuildPayload(d forwarder.Delivery, now time.Time) (url.Values, error) {
	d = d.CleanTexts()
	h := d.UA
	if h == nil {
		return nil, forwarder.Permanent("no_ua_hit", fmt.Errorf("ua: delivery %s has no UA hit", d.ID))
	}
	if err := check(d); err != nil {
		return nil, err
	}
	v := url.Values{
		"v":   {"1"},
		"tid": {h.TrackingID},
		"cid": {h.ClientID},
		"t":   {"event"},
		"ec":  {h.Category},
		"ea":  {h.Action},
		"z":   {cacheBuster(d.ID)},
	}
	if h.Label != "" {
		v.Set("el", h.Label)
	}
	if h.Value != nil {
		v.Set("ev", strconv.Itoa(*h.Value))
	}
	if h.NonInteraction {
		v.Set("ni", "1")
	}
	for k, val := range h.Campaign {
		if val != "" {
			v.Set(k, val)
		}
	}
	qt, err := queueTime(d, now)
	if err != nil {
		return nil, err
	}
	if qt >= 0 {
		v.Set("qt", strconv.FormatInt(qt, 10))
	}
	if n := len(encode(v)); n > MaxPayloadBytes {
		return nil, forwarder.Permanent("payload_too_large", fmt.Errorf("ua: delivery %s: payload is %d bytes, more than the %d allowed", d.ID, n, MaxPayloadBytes))
	}
	return v, nil
}

// check refuses the hits a collector would drop for their content.
func check(d forwarder.Delivery) error {
	h := d.UA
	switch {
	case !trackingIDPattern.MatchString(h.TrackingID):
		return forwarder.Permanent("bad_tracking_id", fmt.Errorf("ua: delivery %s: tracking id %q is not UA-XXXX-Y", d.ID, h.TrackingID))
	case h.ClientID == "":
		return forwarder.Permanent("no_client_id", fmt.Errorf("ua: delivery %s has no client id", d.ID))
	case h.Category == "":
		return forwarder.Permanent("no_event_category", fmt.Errorf("ua: delivery %s has no event category", d.ID))
	case h.Action == "":
		return forwarder.Permanent("no_event_action", fmt.Errorf("ua: delivery %s has no event action", d.ID))
	case h.Value != nil && *h.Value < 0:
		return forwarder.Permanent("negative_value", fmt.Errorf("ua: delivery %s: event value %d is negative", d.ID, *h.Value))
	}
	fields := map[string]string{"ec": h.Category, "ea": h.Action, "el": h.Label}
	for _, k := range []string{"ec", "ea", "el"} {
		if err := checkLen(d.ID, k, fields[k], eventLimits[k]); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(h.Campaign))
	for k := range h.Campaign {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		limit, ok := campaignLimits[k]
		if !ok {
			return forwarder.Permanent("unknown_campaign_param", fmt.Errorf("ua: delivery %s: %q is not a campaign parameter (cn, cs, cm, ck, cc, ci)", d.ID, k))
		}
		if err := checkLen(d.ID, k, h.Campaign[k], limit); err != nil {
			return err
		}
	}
	return nil
}

func checkLen(id, param, value string, limit int) error {
	if len(value) > limit {
		return forwarder.Permanent("value_too_long", fmt.Errorf("ua: delivery %s: %s is %d bytes, more than the %d allowed", id, param, len(value), limit))
	}
	return nil
}

// queueTime returns qt in milliseconds for d, or -1 when the hit time is
// unknown or in the future.
func queueTime(d forwarder.Delivery, now time.Time) (int64, error) {
	t := d.UA.Time
	if t.IsZero() {
		t = d.CallTime
	}
	if t.IsZero() {
		return -1, nil
	}
	age := now.Sub(t)
	if age < 0 {
		return -1, nil
	}
	if age > MaxQueueTime {
		return 0, forwarder.Permanent("hit_too_old", fmt.Errorf(
			"ua: delivery %s: hit time %s is %s old, past the protocol's %s queue-time limit",
			d.ID, t.UTC().Format(time.RFC3339), age.Truncate(time.Second), MaxQueueTime))
	}
	return age.Milliseconds(), nil
}

// cacheBuster derives z from the delivery id: stable for one delivery,
// different between deliveries.
func cacheBuster(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return strconv.FormatUint(uint64(h.Sum32()), 10)
}

// encode writes v as a form body in the protocol's customary order (see
// paramOrder); parameters outside it follow in key order, before z.
func encode(v url.Values) string {
	var b strings.Builder
	write := func(k string) {
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(val))
		}
	}
	var rest []string
	for k := range v {
		if !slices.Contains(paramOrder, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	last := len(paramOrder) - 1
	for _, k := range paramOrder[:last] {
		write(k)
	}
	for _, k := range rest {
		write(k)
	}
	write(paramOrder[last])
	return b.String()
}
