package httpapi

import (
	"errors"
	"net/http"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/webhook"
)

// errorReply is the body of every 4xx and 5xx answer.
type errorReply struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// acceptReply is the body of a 200: the intake result and the optional
// fields left out of the call.
type acceptReply struct {
	ingest.Result
	Dropped []forwarder.DroppedField `json:"dropped,omitempty"`
}

// rejectReply maps a decoding failure to its status and body.
func rejectReply(err error) (int, errorReply) {
	var fe *webhook.FieldError
	if errors.As(err, &fe) {
		status := http.StatusBadRequest
		if errors.Is(err, webhook.ErrUnsupportedContentType) {
			status = http.StatusUnsupportedMediaType
		}
		return status, errorReply{Error: fe.Error(), Field: fe.Field}
	}
	return http.StatusBadRequest, errorReply{Error: err.Error(), Field: "body"}
}
