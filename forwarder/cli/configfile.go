package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// applyConfigFile sets, from the YAML file at path, every flag that is
// not in given (not set by the command line or the environment). Keys are
// flag names (listen, data-dir, redis-url, ...); lists may be YAML
// sequences. Secrets do not belong here: they come from credentials.json
// or the environment.
func applyConfigFile(fs *flag.FlagSet, path string, given map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of flag names to values", path, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := k.Value
		if name == "config" || fs.Lookup(name) == nil {
			return fmt.Errorf("%s:%d:%d: unknown setting %q (settings are the flags of %s)", path, k.Line, k.Column, name, fs.Name())
		}
		if given[name] {
			continue
		}
		var value string
		switch v.Kind {
		case yaml.ScalarNode:
			value = v.Value
		case yaml.SequenceNode:
			parts := make([]string, 0, len(v.Content))
			for _, item := range v.Content {
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s:%d:%d: %s: list items must be plain values", path, item.Line, item.Column, name)
				}
				parts = append(parts, item.Value)
			}
			value = strings.Join(parts, ",")
		default:
			return fmt.Errorf("%s:%d:%d: %s: want a value or a list", path, v.Line, v.Column, name)
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("%s:%d:%d: %s: %w", path, v.Line, v.Column, name, err)
		}
	}
	return nil
}
