package webhook

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// tokenParam is the credential parameter; the HTTP layer checks it, and it
// must never reach a Call, a store or a log.
const tokenParam = "token"

// Params extracts the flat dotted parameters of a request. method is GET or
// POST; for GET the parameters are in rawQuery (the body is ignored); for
// POST they are in body per contentType:
//
//   - application/x-www-form-urlencoded;
//   - multipart/form-data (fields only; a file part is a FieldError);
//   - application/json: an object with flat dotted keys; nested objects are
//     flattened by joining keys with '.'; values may be strings, numbers
//     (kept as written: 187, 187.0) or booleans; null means absent; an array
//     is a FieldError naming its key; a key given twice keeps both values, so
//     that Decode reports them if they differ.
//
// A POST whose body is empty or only whitespace falls back to the query
// string, whatever its Content-Type. For any other POST the query string is
// merged in, and a parameter present in the body replaces the same one in
// the query. The parameter "token" is removed (it is a credential, handled
// by the HTTP layer).
//
// Errors are *FieldError: FieldContentType (matching
// ErrUnsupportedContentType) for a Content-Type Params cannot decode,
// FieldBody for a malformed body or query string, or a parameter's name for
// a problem with one parameter. A method other than GET or POST is a
// programming error of the caller and yields a plain error.
func Params(method, contentType, rawQuery string, body []byte) (url.Values, error) {
	switch method {
	case http.MethodGet, http.MethodPost:
	default:
		return nil, fmt.Errorf("webhook: params: unsupported method %q", method)
	}
	query, err := parseForm(rawQuery, "query string")
	if err != nil {
		return nil, err
	}
	if method == http.MethodGet || len(bytes.TrimSpace(body)) == 0 {
		delete(query, tokenParam)
		return query, nil
	}
	values, err := parseBody(contentType, body)
	if err != nil {
		return nil, err
	}
	for name, vs := range query {
		if _, inBody := values[name]; !inBody {
			values[name] = vs
		}
	}
	delete(values, tokenParam)
	return values, nil
}

// parseForm parses a url-encoded string. what names it in the error.
func parseForm(s, what string) (url.Values, error) {
	if s == "" {
		return url.Values{}, nil
	}
	values, err := url.ParseQuery(s)
	if err != nil {
		return nil, &FieldError{Field: FieldBody, Problem: "malformed " + what + ": " + err.Error()}
	}
	return values, nil
}

// parseBody decodes a non-empty POST body according to its Content-Type.
func parseBody(contentType string, body []byte) (url.Values, error) {
	if contentType == "" {
		return nil, &FieldError{Field: FieldContentType, Problem: "missing for a request body"}
	}
	mediaType, ps, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, &FieldError{Field: FieldContentType, Problem: "malformed: " + err.Error()}
	}
	if cs, ok := ps["charset"]; ok && !isUTF8Charset(cs) {
		return nil, &FieldError{Field: FieldContentType, Problem: "unsupported charset " + quote(cs) + " (want utf-8)"}
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		return parseForm(string(body), "form body")
	case "multipart/form-data":
		return parseMultipart(body, ps["boundary"])
	case "application/json":
		return parseJSON(body)
	}
	return nil, &FieldError{
		Field:   FieldContentType,
		Problem: "unsupported media type " + quote(mediaType) + " (want application/x-www-form-urlencoded, multipart/form-data or application/json)",
	}
}

func isUTF8Charset(cs string) bool {
	return strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") || strings.EqualFold(cs, "us-ascii")
}

// parseMultipart reads the fields of a multipart/form-data body. Values are
// read up to one byte past the value limit, enough for Decode to report
// them as too long without holding more.
func parseMultipart(body []byte, boundary string) (url.Values, error) {
	if boundary == "" {
		return nil, &FieldError{Field: FieldContentType, Problem: "multipart/form-data without a boundary"}
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	values := url.Values{}
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return values, nil
		}
		if err != nil {
			return nil, malformedMultipart()
		}
		if parts >= maxParams {
			return nil, tooManyParams()
		}
		name := p.FormName()
		if name == "" {
			return nil, &FieldError{Field: FieldBody, Problem: "multipart part without a form field name"}
		}
		if p.FileName() != "" {
			return nil, &FieldError{Field: fieldName(name), Problem: "file parts are not supported"}
		}
		v, err := io.ReadAll(io.LimitReader(p, maxValueLen+1))
		if err != nil {
			return nil, malformedMultipart()
		}
		values.Add(name, string(v))
	}
}

// malformedMultipart leaves out the parser's detail, which may quote a
// line of the body.
func malformedMultipart() *FieldError {
	return &FieldError{Field: FieldBody, Problem: "malformed multipart body"}
}
