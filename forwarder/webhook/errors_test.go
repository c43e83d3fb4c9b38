package webhook

import (
	"errors"
	"fmt"
	"testing"
)

func TestFieldError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err         *FieldError
		want        string
		contentType bool
	}{
		{&FieldError{Field: "Call.Duration", Problem: `not an integer: "abc"`}, `Call.Duration: not an integer: "abc"`, false},
		{&FieldError{Field: FieldBody, Problem: "malformed JSON"}, "body: malformed JSON", false},
		{&FieldError{Field: FieldContentType, Problem: `unsupported media type "text/plain"`}, `Content-Type: unsupported media type "text/plain"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			wrapped := fmt.Errorf("ingest: %w", tt.err)
			if got := errors.Is(wrapped, ErrUnsupportedContentType); got != tt.contentType {
				t.Errorf("errors.Is(_, ErrUnsupportedContentType) = %v, want %v", got, tt.contentType)
			}
			var fe *FieldError
			if !errors.As(wrapped, &fe) || fe != tt.err {
				t.Errorf("errors.As did not find the FieldError in %v", wrapped)
			}
		})
	}
}
