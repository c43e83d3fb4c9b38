// Package failpoint lets the fault tests kill the forwarder at named
// points of its work, to prove that a crash there loses nothing.
//
// Failpoints exist only in a binary built with the build tag "failpoints"
// (go build -tags failpoints): without it the Hit functions are empty and
// the linker drops them, so a production binary carries none. With the
// tag, the environment variable FORWARDER_FAILPOINTS arms them:
//
//	FORWARDER_FAILPOINTS="after-accept-before-reply=25,mid-batch/google_ads=3"
//
// names a failpoint and the hit that fires it: the process sends itself
// SIGKILL on the 25th hit of after-accept-before-reply, as a crash or an
// OOM kill would end it, after writing one line to standard error that
// names the failpoint. A name may be narrowed to one kind of hit with
// "/kind": mid-batch/google_ads counts only the mid-batch hits of Google
// Ads deliveries (the delivery workers give the destination type as the
// kind), mid-batch counts them all. Each failpoint fires at most once per
// process. A value that does not parse ends the process at start (exit
// status 2).
//
// The failpoints of the forwarder:
//
//   - after-accept-before-reply: the store holds the call, the webhook's
//     200 is not written yet (httpapi);
//   - after-send-before-commit: Google accepted a send (one delivery, or
//     a whole batch), no outcome of it is recorded yet (deliver);
//   - mid-batch: Google accepted a batch and its outcomes are being
//     recorded: the process dies part-way through the batch's jobs, when
//     failed ones before that point may have their retry recorded and the
//     delivered ones (acknowledged together) none yet (deliver).
package failpoint

import (
	"fmt"
	"strconv"
	"strings"
)

// EnvVar is the environment variable that arms failpoints.
const EnvVar = "FORWARDER_FAILPOINTS"

// Names of the forwarder's failpoints (see the package comment).
const (
	AfterAcceptBeforeReply = "after-accept-before-reply"
	AfterSendBeforeCommit  = "after-send-before-commit"
	MidBatch               = "mid-batch"
)

// Parse reads a FORWARDER_FAILPOINTS value: comma-separated name=N pairs
// (name possibly narrowed to name/kind), N the hit (from 1) that fires
// the failpoint. An empty value arms none.
func Parse(spec string) (map[string]int64, error) {
	out := map[string]int64{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, n, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("failpoint: %q: want name=N", part)
		}
		hit, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil || hit < 1 {
			return nil, fmt.Errorf("failpoint: %q: N must be a whole number from 1", part)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("failpoint: %q is named twice", name)
		}
		out[name] = hit
	}
	return out, nil
}
