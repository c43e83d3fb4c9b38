package app

import (
	"errors"
	"fmt"
	"net"

	"github.com/callforward/callforward/forwarder/adminapi"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/mapping"
)

// listenAdmin binds the read API's listener when AdminListen is set. It
// needs at least one admin token: an API nobody may use is a mistake.
func (a *App) listenAdmin() error {
	if a.cfg.AdminListen == "" {
		return nil
	}
	if len(a.creds.AdminTokens) == 0 {
		return errors.New("admin-listen: no admin token: add admin_tokens to the credentials file")
	}
	h := adminapi.New(adminapi.Config{
		Store:  a.store,
		Rules:  func() *mapping.Rules { return a.rules.Load() },
		Tokens: a.creds.AdminTokens,
		Logger: a.log,
	})
	ln, err := net.Listen("tcp", a.cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("admin-listen: %w", err)
	}
	a.adminLn = ln
	a.admin = httpapi.NewServer(h, httpapi.Timeouts{})
	return nil
}

// AdminAddr is the address the read API listens on ("" when it is off).
func (a *App) AdminAddr() string {
	if a.adminLn == nil {
		return ""
	}
	return a.adminLn.Addr().String()
}
