package spool

import (
	"errors"
	"fmt"
	"strings"

	"github.com/callforward/callforward/forwarder"
)

// File names in a spool directory.
const (
	// callPrefix and callSuffix frame a spooled call's file name.
	callPrefix = "c-"
	callSuffix = ".json"
	// eventSep separates the Sid from the event in a call's file name.
	eventSep = "@"
	// tempPrefix starts every file being written; Open removes them.
	tempPrefix = ".tmp-"
	// lockName is the file Open locks.
	lockName = ".lock"
)

// maxSidLen and maxEventLen are the longest Sid and event the spool
// takes, as the webhook decoder.
const (
	maxSidLen   = 128
	maxEventLen = 64
)

// fileName returns the name of the spool file of the event of call sid:
// callPrefix, sid with ':' written as '+', eventSep, event, callSuffix.
// The spool, like the stores, takes each event of a call once: the
// Call.Initiate and the Call.Complete of one call share its Sid.
//
// It refuses a sid that is empty, longer than maxSidLen or has a byte
// outside [A-Za-z0-9_.:-], and an event longer than maxEventLen or with a
// byte outside [A-Za-z.], so a name never holds a path separator, never is
// "." or "..", never starts with a dot, and two calls never share a name
// ('+' and '@' are neither Sid nor event bytes).
//
// Files spooled before the event was part of the name (callPrefix, sid,
// callSuffix) are drained all the same; a copy of such a call is not
// recognised by name, and is spooled again for the primary to answer
// duplicate.
func fileName(sid string, event forwarder.Event) (string, error) {
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
	if len(event) > maxEventLen {
		return "", fmt.Errorf("call event of %d bytes, want at most %d", len(event), maxEventLen)
	}
	for i := 0; i < len(event); i++ {
		if c := event[i] | 0x20; (c < 'a' || c > 'z') && event[i] != '.' {
			return "", fmt.Errorf("call event %q has byte %#x outside [A-Za-z.]", event, event[i])
		}
	}
	return sidStem(sid) + eventSep + string(event) + callSuffix, nil
}

// legacyFileName returns the name a call of sid was spooled under before
// the event was part of the name.
func legacyFileName(sid string) string { return sidStem(sid) + callSuffix }

// sidStem is how the file names of sid start: callPrefix, then sid with ':'
// written as '+'.
func sidStem(sid string) string { return callPrefix + strings.ReplaceAll(sid, ":", "+") }

// isCallFile reports whether name is a spooled call's file name.
func isCallFile(name string) bool {
	return len(name) > len(callPrefix)+len(callSuffix) &&
		strings.HasPrefix(name, callPrefix) && strings.HasSuffix(name, callSuffix)
}
