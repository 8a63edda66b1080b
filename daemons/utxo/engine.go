package utxo

import "github.com/walletd/walletd/coins/wallet"

// Engine returns the daemon's wallet engine, for tools that work on the
// daemon's store while it does not serve (cmd/daemon's import-electrum).
// Start the daemon first so the engine follows the chain.
func (d *Daemon) Engine() *wallet.Engine { return d.engine }
