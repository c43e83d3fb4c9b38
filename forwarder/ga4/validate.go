package ga4

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/callforward/callforward/forwarder"
)

// maxValidationReply bounds the validation server's reply read into memory.
const maxValidationReply = 1 << 20

// ValidationMessage is one finding of Google's validation server.
type ValidationMessage struct {
	// FieldPath names the offending field, e.g. "events[0].name".
	FieldPath string `json:"fieldPath"`
	// Description is Google's explanation.
	Description string `json:"description"`
	// ValidationCode is one of VALUE_INVALID, VALUE_REQUIRED, NAME_INVALID,
	// NAME_RESERVED, VALUE_OUT_OF_BOUNDS, EXCEEDED_MAX_ENTITIES,
	// NAME_DUPLICATED.
	ValidationCode string `json:"validationCode"`
}

// String formats m for a person: "CODE field: description".
func (m ValidationMessage) String() string {
	return fmt.Sprintf("%s %s: %s", m.ValidationCode, m.FieldPath, m.Description)
}

// Validate posts the payload Send would post for d to /debug/mp/collect
// and returns Google's findings; none means the event would be recorded.
// Google records nothing sent there, and its validation server checks
// neither the API secret nor whether the measurement id exists. Errors are
// classified as in Send.
func (s *Sender) Validate(ctx context.Context, d forwarder.Delivery) ([]ValidationMessage, error) {
	msgs, errs := s.ValidateBatch(ctx, []forwarder.Delivery{d})
	if errs[0] != nil {
		return nil, errs[0]
	}
	return msgs[0], nil
}

// ValidateBatch posts the requests SendBatch would post for ds to
// /debug/mp/collect and returns, index-aligned, each delivery's findings
// and error (classified as in SendBatch). A finding about an event
// ("events[3].name") goes to the delivery that event carries; one about
// the request goes to every delivery of the request. Field paths are
// Google's: they count the events of the request, not ds.
func (s *Sender) ValidateBatch(ctx context.Context, ds []forwarder.Delivery) ([][]ValidationMessage, []error) {
	now := s.now()
	out := make([][]ValidationMessage, len(ds))
	reqs, errs := s.plan(opValidate, ds, now)
	for _, r := range reqs {
		var found []ValidationMessage
		err := s.post(ctx, opValidate, debugPath, r, now, func(body io.Reader) error {
			var reply struct {
				ValidationMessages []ValidationMessage `json:"validationMessages"`
			}
			if err := json.NewDecoder(io.LimitReader(body, maxValidationReply)).Decode(&reply); err != nil {
				return forwarder.Transient("bad_reply", fmt.Errorf("%s: decode reply: %w", opValidate, err))
			}
			found = reply.ValidationMessages
			return nil
		})
		for j, i := range r.idx {
			if err != nil {
				errs[i] = err
				continue
			}
			out[i] = aboutEvent(found, j)
		}
	}
	return out, errs
}

// aboutEvent returns the findings of a request that concern its event j:
// those about that event and those about the request. It never returns
// nil.
func aboutEvent(msgs []ValidationMessage, j int) []ValidationMessage {
	prefix := fmt.Sprintf("events[%d]", j)
	out := []ValidationMessage{}
	for _, m := range msgs {
		p := m.FieldPath
		switch {
		case !strings.HasPrefix(p, "events["),
			p == prefix, strings.HasPrefix(p, prefix+"."), strings.HasPrefix(p, prefix+"["):
			out = append(out, m)
		}
	}
	return out
}
