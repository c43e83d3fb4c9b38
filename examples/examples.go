// Package examples ships the example rules file and sample Fone Dynamics
// webhooks inside the binary, so that `forwarder demo` runs from anywhere.
// The files themselves are the documentation: read rules.yaml first.
package examples

import "embed"

// FS holds rules.yaml and webhooks/*: sample requests as the platform
// sends them (*.form: urlencoded POST body, *.query: GET query string,
// *.json: JSON POST body). Numbers and ids in them are made up.
//
//go:embed rules.yaml webhooks/*.form webhooks/*.query webhooks/*.json
var FS embed.FS
