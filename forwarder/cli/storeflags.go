package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/store/bolt"
)

// storeFlags declares the flags that select the store, with serve's
// defaults, so operator commands open the store serve uses.
func storeFlags(fs *flag.FlagSet) *app.StoreConfig {
	d := app.Defaults()
	cfg := d.StoreConfig()
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded store")
	return &cfg
}

// openStore opens the store for an operator command, explaining the one
// error operators meet: the embedded store is held by a running forwarder.
func openStore(ctx context.Context, cfg *app.StoreConfig) (app.Store, error) {
	st, err := app.OpenStore(ctx, *cfg)
	if errors.Is(err, bolt.ErrInUse) {
		return nil, fmt.Errorf("%w\nthe embedded store is held by a running forwarder: stop it first (e.g. systemctl stop callforward), run the command, then start it again", err)
	}
	return st, err
}
