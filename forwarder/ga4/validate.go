package ga4

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

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
	msgs := []ValidationMessage{}
	err := s.post(ctx, "ga4: validate", debugPath, d, func(body io.Reader) error {
		var reply struct {
			ValidationMessages []ValidationMessage `json:"validationMessages"`
		}
		if err := json.NewDecoder(io.LimitReader(body, maxValidationReply)).Decode(&reply); err != nil {
			return forwarder.Transient("bad_reply", fmt.Errorf("ga4: validate: decode reply: %w", err))
		}
		msgs = append(msgs, reply.ValidationMessages...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return msgs, nil
}
