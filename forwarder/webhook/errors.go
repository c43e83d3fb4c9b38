package webhook

import "errors"

// Field names used by a FieldError that is not about one parameter.
const (
	// FieldBody marks a problem with the request as a whole: a malformed
	// body or query string, too many parameters, a name too long.
	FieldBody = "body"
	// FieldContentType marks a Content-Type that Params cannot decode. Every
	// FieldError with this Field matches ErrUnsupportedContentType.
	FieldContentType = "Content-Type"
)

// ErrUnsupportedContentType matches (with errors.Is) every error Params
// returns because of the request's Content-Type: missing with a non-empty
// body, malformed, a media type other than form, multipart form or JSON, or
// a charset other than UTF-8. The HTTP layer answers 415 Unsupported Media
// Type for it and 400 for every other FieldError.
var ErrUnsupportedContentType = errors.New("webhook: unsupported content type")

// FieldError names the parameter that was wrong and why. Field is the
// parameter's name as sent (Call.Duration), or FieldBody or
// FieldContentType. Problem is a short human explanation; it quotes the
// value only when the value carries no personal data (see the package
// comment), so the error is safe to log and to return to the sender.
type FieldError struct {
	Field   string
	Problem string
}

// Error returns "Field: Problem", e.g. `Call.Duration: not an integer: "abc"`.
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Is reports whether e is about the Content-Type when target is
// ErrUnsupportedContentType.
func (e *FieldError) Is(target error) bool {
	return target == ErrUnsupportedContentType && e.Field == FieldContentType
}
