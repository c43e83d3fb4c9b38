package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/callforward/callforward/forwarder/adminapi"
	"github.com/callforward/callforward/forwarder/console"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/mapping"
)

// listenAdmin binds the admin listener (the read API and the console)
// when AdminListen is set. It needs at least one admin token: an API
// nobody may use is a mistake.
func (a *App) listenAdmin() error {
	if a.cfg.AdminListen == "" {
		return nil
	}
	if len(a.creds.AdminTokens) == 0 {
		return errors.New("admin-listen: no admin token: add admin_tokens to the credentials file")
	}
	rules := func() *mapping.Rules { return a.rules.Load() }
	api := adminapi.New(adminapi.Config{
		Store:  a.store,
		Rules:  rules,
		Tokens: a.creds.AdminTokens,
		Logger: a.log,
	})
	ui, err := console.New(console.Config{
		Store:         a.store,
		Rules:         rules,
		Status:        a.ConsoleStatus,
		Tokens:        a.creds.AdminTokens,
		SecureCookies: a.cfg.AdminSecureCookies,
		Logger:        a.log,
	})
	if err != nil {
		return fmt.Errorf("admin-listen: console: %w", err)
	}
	// The read API under its prefix, the console everywhere else.
	h := http.NewServeMux()
	h.Handle(adminapi.Prefix, api)
	h.Handle("/", ui)
	ln, err := net.Listen("tcp", a.cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("admin-listen: %w", err)
	}
	a.adminLn = ln
	a.admin = httpapi.NewServer(h, httpapi.Timeouts{})
	return nil
}

// AdminAddr is the address the read API and the console listen on (""
// when they are off).
func (a *App) AdminAddr() string {
	if a.adminLn == nil {
		return ""
	}
	return a.adminLn.Addr().String()
}
