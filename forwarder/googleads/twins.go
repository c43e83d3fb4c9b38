package googleads

import (
	"strconv"

	"github.com/callforward/callforward/forwarder"
)

// distinct returns the conversions of convs Google can tell apart, in
// order, and for each conversion of convs the index of its original in
// that list. The Google Ads API refuses a second conversion with the same
// click or caller, action and time (DUPLICATE_CLICK_CONVERSION_IN_REQUEST,
// DUPLICATE_CALL_CONVERSION_IN_REQUEST) or the same order id
// (DUPLICATE_ORDER_ID) in one request, while in a request of its own it
// is "already exists", which counts as delivered. A twin is therefore
// not sent and shares its original's outcome.
func distinct(convs []*forwarder.AdsConversion) (uniq []*forwarder.AdsConversion, of []int) {
	of = make([]int, len(convs))
	seen := map[string]int{}
	for i, a := range convs {
		keys := identity(a)
		j, twin := -1, false
		for _, k := range keys {
			if j, twin = seen[k]; twin {
				break
			}
		}
		if !twin {
			// Only what is sent is known to Google: a twin's other keys
			// are not.
			j = len(uniq)
			uniq = append(uniq, a)
			for _, k := range keys {
				seen[k] = j
			}
		}
		of[i] = j
	}
	return uniq, of
}

// identity returns the keys by which the Google Ads API tells a
// conversion from the others of its request: the click (GCLID) or call
// (caller and start) with action and time, to the second as sent, and
// the order id with the action.
func identity(a *forwarder.AdsConversion) []string {
	action := a.CustomerID + "|" + a.ConversionAction + "|"
	at := "|" + strconv.FormatInt(a.Time.Unix(), 10)
	var keys []string
	switch {
	case a.Kind == forwarder.AdsCall:
		keys = append(keys, "call|"+action+a.CallerID+"|"+strconv.FormatInt(a.CallStart.Unix(), 10)+at)
	case a.GCLID != "":
		keys = append(keys, "click|"+action+a.GCLID+at)
	}
	if a.Kind == forwarder.AdsClick && a.TransactionID != "" {
		keys = append(keys, "order|"+action+a.TransactionID)
	}
	return keys
}
