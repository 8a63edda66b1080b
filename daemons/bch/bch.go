// Package bch is walletd's Bitcoin Cash daemon: the BCH coin description
// (coins/params.BCH networks with their cashaddr codec, coins/bch's engine
// description, Electron Cash's flavor of the shared daemon), its default
// port and environment prefix, and its choice of chain backend. Everything
// else is daemons/utxo, as Bitcart's BCHDaemon is its BTCDaemon with
// Electron Cash underneath.
package bch

import (
	"context"
	"log/slog"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/daemons/utxo"
)

// EnvPrefix is the prefix of the daemon's environment variables (BCH_PORT…).
const EnvPrefix = "BCH"

// DefaultPort is Bitcart's port for the BCH daemon.
const DefaultPort = 5004

// Coin describes Bitcoin Cash to the BTC-family daemon: Bitcart's BCH
// networks (mainnet, testnet, testnet4, scalenet, regtest, chipnet), the
// "bch" spec overlay, Electron Cash's key material, signing and policy
// (coins/bch.Coin), and Electron Cash's method names, reply shapes and
// events (utxo.ElectronCash).
func Coin() utxo.Coin {
	return utxo.Coin{Ticker: "BCH", Network: params.BCH, CatalogName: "bch", Engine: bch.Coin, Flavor: utxo.ElectronCash}
}

// New builds the BCH daemon for cfg, choosing its chain backend from
// cfg.Server's scheme (see utxo.OpenBackend): ws:// or wss:// for bchd.
func New(ctx context.Context, cfg utxo.Config, log *slog.Logger) (*utxo.Daemon, error) {
	return utxo.NewFor(ctx, Coin(), cfg, log)
}
