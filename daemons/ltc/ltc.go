// Package ltc is walletd's Litecoin daemon: the LTC coin description (Electrum-
// LTC's parameters, coins/params.LTC), its default port and environment
// prefix, and its choice of chain backend. Everything else is daemons/utxo,
// exactly as for BTC: Bitcart's LTC daemon serves the BTC method set and
// error catalog.
package ltc

import (
	"context"
	"log/slog"

	"github.com/walletd/walletd/coins/btc"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/utxo"
)

// EnvPrefix is the prefix of the daemon's environment variables (LTC_PORT…).
const EnvPrefix = "LTC"

// DefaultPort is Bitcart's port for the LTC daemon.
const DefaultPort = 5001

// Coin describes Litecoin to the BTC-family daemon: amounts are
// "amount_LTC", the catalog is BTC's, and the engine is the Bitcoin
// family's with Litecoin Core's dust rule (its -dustrelayfee is ten times
// Bitcoin's: a payout litecoind would refuse as dust is refused when it is
// built).
func Coin() utxo.Coin {
	return utxo.Coin{Ticker: "LTC", Network: params.LTC, CatalogName: "btc", Engine: Engine}
}

// Engine is Litecoin's description to the wallet engine.
func Engine(n *params.Network) wallet.Coin {
	c := wallet.Bitcoin(n)
	c.Policy = wallet.BitcoinPolicy(btc.LTCDustRelayFeePerKB)
	return c
}

// New builds the LTC daemon for cfg, choosing its chain backend from
// cfg.Server's scheme (see utxo.OpenBackend): ws:// for ltcd, http:// for
// Litecoin Core.
func New(ctx context.Context, cfg utxo.Config, log *slog.Logger) (*utxo.Daemon, error) {
	return utxo.NewFor(ctx, Coin(), cfg, log)
}
