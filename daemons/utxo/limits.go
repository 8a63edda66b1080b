package utxo

import (
	"fmt"
	"strings"

	"github.com/walletd/walletd/daemons/base"
)

// CoinAmount is a positive amount in coin units read from configuration
// ("0.1"), parsed exactly (never through float64) into satoshis.
type CoinAmount struct{ Sats int64 }

// Decode parses an environment value (envconfig's Decoder).
func (a *CoinAmount) Decode(s string) error {
	v, err := ParseAmount(s)
	if err != nil || v.Max || v.Sats <= 0 {
		return fmt.Errorf("%q is not a positive amount in coin units", strings.TrimSpace(s))
	}
	a.Sats = v.Sats
	return nil
}

// UnmarshalText is Decode for text-based decoders.
func (a *CoinAmount) UnmarshalText(b []byte) error { return a.Decode(string(b)) }

// MarshalJSON renders the amount in coin units.
func (a CoinAmount) MarshalJSON() ([]byte, error) { return base.Marshal(FormatElectrum(a.Sats)) }

// Bitcoin Core's defaults for -maxtxfee and maxfeerate: 0.1 coin, and 0.1
// coin per 1000 vbytes.
const (
	defaultMaxTxFee   = 10_000_000 // sat
	defaultMaxFeeRate = 10_000_000 // sat/kvB
)

// feeCaps returns the configured fee caps (the defaults for zero values).
func (d *Daemon) feeCaps() feeCaps {
	c := feeCaps{maxFee: d.cfg.MaxTxFee.Sats, maxRate: d.cfg.MaxFeeRate.Sats, prefix: d.coin.Ticker}
	if c.maxFee <= 0 {
		c.maxFee = defaultMaxTxFee
	}
	if c.maxRate <= 0 {
		c.maxRate = defaultMaxFeeRate
	}
	return c
}

// configDefaults are walletd's and Bitcart's values for Electrum keys whose
// Electrum default does not describe this daemon.
func (d *Daemon) configDefaults() map[string]string {
	str := func(s string) string { b, _ := base.Marshal(s); return string(b) }
	out := map[string]string{
		"oneserver":         "false",
		"use_exchange_rate": "false",
		"forget_config":     "true",
		"currency":          `"USD"`,
		"io_dir":            str(d.cfg.DataPath),
	}
	if d.cfg.Server != "" {
		out["server"] = str(redactedServer(d.cfg.Server))
	}
	if c := d.cfg.FiatCurrency; c != "" {
		out["currency"] = str(c) // Bitcart's <COIN>_FIAT_CURRENCY
	}
	if d.coin.Flavor == ElectronCash {
		// Electron Cash: a static 1 sat/byte, no replace-by-fee.
		out[cfgFeePolicy] = str(feePolicy{method: feeFeerate, value: ecDefaultFeePerKB}.String())
		out["use_rbf"] = "false"
	}
	return out
}
