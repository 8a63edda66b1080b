package utxo

import "github.com/walletd/walletd/coins/wallet"

// Flavor is the reference wallet whose method names, reply shapes and
// events a coin's daemon reproduces: Bitcart runs its BTC-family coins on
// Electrum (BTC, LTC) or on Electron Cash (BCH and its forks).
type Flavor int

const (
	// Electrum is Bitcart's BTCDaemon on Electrum 4.6 (the zero value).
	Electrum Flavor = iota
	// ElectronCash is Bitcart's BCHDaemon on Electron Cash 4.4.2:
	// addrequest/getrequest/listrequests/rmrequest/clearrequests/history,
	// requests keyed by address, "amount (BCH)", new_payment naming the
	// address, static fees, no lightning, no RBF, no PSBT.
	ElectronCash
)

// ecTooltip is Electron Cash's paymentrequest.pr_tooltips text of a
// status, which Bitcart's BCH new_payment carries as status_str.
func ecTooltip(status int) string {
	switch status {
	case wallet.StatusPaid:
		return "Paid"
	case wallet.StatusUnconfirmed:
		return "Unconfirmed"
	case wallet.StatusExpired:
		return "Expired"
	case wallet.StatusUnpaid:
		return "Pending"
	}
	return "Unknown"
}
