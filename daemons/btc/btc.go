// Package btc is walletd's Bitcoin daemon: the BTC coin description, its
// default port and environment prefix, and its choice of chain backend.
// Everything else is daemons/utxo.
package btc

import (
	"context"
	"log/slog"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/daemons/utxo"
)

// EnvPrefix is the prefix of the daemon's environment variables (BTC_PORT…).
const EnvPrefix = "BTC"

// DefaultPort is Bitcart's port for the BTC daemon.
const DefaultPort = 5000

// Coin describes Bitcoin to the BTC-family daemon.
func Coin() utxo.Coin {
	return utxo.Coin{Ticker: "BTC", Network: params.BTC, CatalogName: "btc"}
}

// New builds the BTC daemon for cfg, choosing its chain backend from
// cfg.Server's scheme (see utxo.OpenBackend).
func New(ctx context.Context, cfg utxo.Config, log *slog.Logger) (*utxo.Daemon, error) {
	return utxo.NewFor(ctx, Coin(), cfg, log)
}
