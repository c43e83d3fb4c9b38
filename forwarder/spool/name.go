package spool

import (
	"errors"
	"fmt"
	"strings"
)

// File names in a spool directory.
const (
	// callPrefix and callSuffix frame a spooled call's file name.
	callPrefix = "c-"
	callSuffix = ".json"
	// tempPrefix starts every file being written; Open removes them.
	tempPrefix = ".tmp-"
	// lockName is the file Open locks.
	lockName = ".lock"
)

// maxSidLen is the longest Sid the spool takes, as the webhook decoder.
const maxSidLen = 128

// fileName returns the name of the spool file of sid: callPrefix, sid with
// ':' written as '+', callSuffix. It refuses a sid that is empty, longer
// than maxSidLen or has a byte outside [A-Za-z0-9_.:-], so a name never
// holds a path separator, never is "." or "..", never starts with a dot,
// and two Sids never share a name ('+' is not a Sid byte).
func fileName(sid string) (string, error) {
	if sid == "" {
		return "", errors.New("call has no Sid")
	}
	if len(sid) > maxSidLen {
		return "", fmt.Errorf("call Sid of %d bytes, want at most %d", len(sid), maxSidLen)
	}
	for i := 0; i < len(sid); i++ {
		c := sid[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '.', c == ':', c == '-':
		default:
			return "", fmt.Errorf("call Sid %q has byte %#x outside [A-Za-z0-9_.:-]", sid, c)
		}
	}
	return callPrefix + strings.ReplaceAll(sid, ":", "+") + callSuffix, nil
}

// isCallFile reports whether name is a spooled call's file name.
func isCallFile(name string) bool {
	return len(name) > len(callPrefix)+len(callSuffix) &&
		strings.HasPrefix(name, callPrefix) && strings.HasSuffix(name, callSuffix)
}
