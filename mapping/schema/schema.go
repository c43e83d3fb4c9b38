// Package schema holds the JSON Schema (draft 2020-12) of the rules file,
// so that editors can complete and check it as it is written: a YAML file
// starting with
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/callforward/callforward/main/mapping/schema/rules.schema.json
//
// gets completion and validation in editors using the YAML language
// server. The schema describes the shape of the file (keys, types, the
// simple formats of ids and names); package mapping checks much more
// (GA4's reserved names and limits, that destinations exist, that
// expressions compile), so the schema accepts some files the loader
// refuses, never the reverse for the files the tests cover.
package schema

import _ "embed"

// JSON is the schema document, rules.schema.json.
//
//go:embed rules.schema.json
var JSON []byte
