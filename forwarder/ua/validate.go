package ua

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/callforward/callforward/forwarder"
)

// maxValidationReply bounds the validation server's reply read into memory.
const maxValidationReply = 1 << 20

// ParserMessage is one finding of the validation server (/debug/collect).
type ParserMessage struct {
	// MessageType is ERROR, WARN or INFO.
	MessageType string `json:"messageType"`
	// MessageCode is e.g. VALUE_INVALID or VALUE_REQUIRED, when given.
	MessageCode string `json:"messageCode,omitempty"`
	// Description is the server's explanation.
	Description string `json:"description"`
	// Parameter names the offending parameter, e.g. "tid".
	Parameter string `json:"parameter,omitempty"`
}

// String formats m for a person: "TYPE parameter: description".
func (m ParserMessage) String() string {
	return fmt.Sprintf("%s %s: %s", m.MessageType, m.Parameter, m.Description)
}

// ValidationResult is the validation server's verdict on one hit.
type ValidationResult struct {
	// Valid reports whether the hit would be recorded.
	Valid bool `json:"valid"`
	// Messages are the findings; none when Valid.
	Messages []ParserMessage `json:"parserMessage"`
}

// Validate posts the payload Send would post for d to /debug/collect and
// returns the server's verdict. Nothing sent there is recorded. Errors are
// classified as in Send; a reply without exactly one hit result is a
// transient "bad_reply".
func (s *Sender) Validate(ctx context.Context, d forwarder.Delivery) (ValidationResult, error) {
	var res ValidationResult
	err := s.post(ctx, "ua: validate", debugPath, d, func(body io.Reader) error {
		var reply struct {
			HitParsingResult []ValidationResult `json:"hitParsingResult"`
		}
		if err := json.NewDecoder(io.LimitReader(body, maxValidationReply)).Decode(&reply); err != nil {
			return forwarder.Transient("bad_reply", fmt.Errorf("ua: validate: decode reply: %w", err))
		}
		if n := len(reply.HitParsingResult); n != 1 {
			return forwarder.Transient("bad_reply", fmt.Errorf("ua: validate: want 1 hit result, got %d", n))
		}
		res = reply.HitParsingResult[0]
		return nil
	})
	if err != nil {
		return ValidationResult{}, err
	}
	if res.Messages == nil {
		res.Messages = []ParserMessage{}
	}
	return res, nil
}
