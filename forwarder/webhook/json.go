package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a JSON body; the platform's parameters
// have at most four dotted parts.
const maxJSONDepth = 16

// parseJSON flattens a JSON object into dotted parameters, reading it as a
// token stream so that duplicate keys and arrays are seen, not resolved.
func parseJSON(body []byte) (url.Values, error) {
	// encoding/json would replace invalid UTF-8 with U+FFFD silently.
	if !utf8.Valid(body) {
		return nil, &FieldError{Field: FieldBody, Problem: "JSON body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, malformedJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &FieldError{Field: FieldBody, Problem: "JSON body is not an object"}
	}
	values := url.Values{}
	if err := flattenJSON(dec, "", values, 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &FieldError{Field: FieldBody, Problem: "malformed JSON: data after the top-level object"}
	}
	return values, nil
}

// flattenJSON adds the members of the object whose '{' was just read, and
// reads its closing '}'.
func flattenJSON(dec *json.Decoder, prefix string, out url.Values, depth int) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformedJSON(err)
		}
		key, ok := tok.(string)
		if !ok {
			return &FieldError{Field: FieldBody, Problem: "malformed JSON: object key is not a string"}
		}
		name := key
		if prefix != "" {
			name = prefix + "." + key
		}
		tok, err = dec.Token()
		if err != nil {
			return malformedJSON(err)
		}
		switch v := tok.(type) {
		case json.Delim:
			if v != '{' {
				return &FieldError{Field: fieldName(name), Problem: "arrays are not supported"}
			}
			if depth >= maxJSONDepth {
				return &FieldError{Field: FieldBody, Problem: fmt.Sprintf("JSON objects nested deeper than %d levels", maxJSONDepth)}
			}
			if err := flattenJSON(dec, name, out, depth+1); err != nil {
				return err
			}
		case string:
			out[name] = append(out[name], v)
		case json.Number:
			out[name] = append(out[name], v.String())
		case bool:
			out[name] = append(out[name], strconv.FormatBool(v))
		case nil:
			// null: absent.
		}
		if len(out) > maxParams {
			return tooManyParams()
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformedJSON(err)
	}
	return nil
}

func malformedJSON(err error) *FieldError {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &FieldError{Field: FieldBody, Problem: "malformed JSON: " + err.Error()}
}
