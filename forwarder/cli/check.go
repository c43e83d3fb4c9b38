package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/mapping"
)

func check(_ context.Context, args []string, io IO) error {
	fs := newFlagSet("check", io)
	rulesPath := fs.String("rules", "rules.yaml", "rules file (YAML)")
	credsPath := fs.String("credentials", "", "credentials file (JSON); checked against the rules when given")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rules, err := mapping.Load(*rulesPath)
	if err != nil {
		fmt.Fprintln(io.Stdout, err)
		return errors.New("the rules file has errors")
	}
	for _, w := range rules.Warnings() {
		fmt.Fprintf(io.Stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(io.Stdout, "%s: ok (%d destinations, %d rules)\n", *rulesPath, len(rules.Destinations()), len(rules.RuleNames()))
	if *credsPath == "" {
		return nil
	}
	creds, err := credentials.Load(*credsPath)
	if err != nil {
		fmt.Fprintln(io.Stdout, err)
		return errors.New("the credentials file has errors")
	}
	if w := credentials.PermissionWarning(*credsPath); w != "" {
		fmt.Fprintf(io.Stdout, "warning: %s\n", w)
	}
	var problems []error
	if len(creds.WebhookTokens) == 0 {
		fmt.Fprintln(io.Stdout, "warning: no webhook_tokens: serve will need FORWARDER_WEBHOOK_TOKENS")
	}
	for _, d := range rules.Destinations() {
		if d.MeasurementID == "" {
			continue
		}
		if missing := creds.MissingGA4Secrets([]string{d.MeasurementID}); len(missing) > 0 {
			problems = append(problems, fmt.Errorf("destination %q: no GA4 API secret for %s in %s", d.Name, d.MeasurementID, *credsPath))
		} else {
			fmt.Fprintf(io.Stdout, "destination %q: GA4 %s has an API secret\n", d.Name, d.MeasurementID)
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(io.Stdout, p)
		}
		return errors.New("the credentials do not cover the rules")
	}
	fmt.Fprintf(io.Stdout, "%s: ok\n", *credsPath)
	return nil
}
