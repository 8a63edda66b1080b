package utxo

import (
	"context"
	"net/url"
	"strconv"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/daemons/base"
)

// methods declares the daemon's method table. Each entry names its
// parameters (through its argument struct), whether it needs a wallet, and
// its help text.
func (d *Daemon) methods() (*base.Table, error) {
	var b base.Builder
	add := b.Add
	add(base.NewMethod("version", "version(): the daemon's version string.", d.version))
	add(base.NewMethod("getinfo", "getinfo(): network, data path, backend server, chain heights, connection and sync state, wallet count.", d.getinfo))
	add(base.NewMethod("validatekey", "validatekey(key): true if key is an Electrum seed or a master public or private key (x/y/z/t/u/v) of this network, exactly as Electrum decides.", d.validatekey))
	add(base.NewMethod("validateaddress", "validateaddress(address): true if address is valid for this coin and network.", d.validateaddress))
	d.walletMethods(&b)
	d.sendMethods(&b)
	d.electrumMethods(&b)
	if d.coin.Flavor == ElectronCash {
		d.electronCashMethods(&b)
	} else {
		lightningMethods(&b)
	}
	return b.Table()
}

// ElectrumVersion is the Electrum release whose command set and reply
// shapes walletd serves (Bitcart's BTC daemon pins 4.6.0b1); version() and
// getinfo report it as Bitcart does, version_info adds walletd's own.
const ElectrumVersion = "4.6.0b1"

func (d *Daemon) version(context.Context, *base.Call, base.NoArgs) (any, error) {
	return ElectrumVersion, nil
}

// Info is getinfo's reply: Electrum 4.6's fields plus Bitcart's
// synchronized and total_wallets, and walletd's version.
type Info struct {
	Network          string           `json:"network"`
	Path             string           `json:"path"`
	Server           string           `json:"server"`
	BlockchainHeight int32            `json:"blockchain_height"`
	ServerHeight     int32            `json:"server_height"`
	SPVNodes         int              `json:"spv_nodes"`
	Connected        bool             `json:"connected"`
	AutoConnect      bool             `json:"auto_connect"`
	Version          string           `json:"version"`
	FeeEstimates     map[string]int64 `json:"fee_estimates"`
	// FeePerKB is Electron Cash's fee_per_kb (its getinfo's), on that
	// flavor only.
	FeePerKB       *int64 `json:"fee_per_kb,omitempty"`
	Synchronized   bool   `json:"synchronized"`
	TotalWallets   int    `json:"total_wallets"`
	WalletdVersion string `json:"walletd_version"`
	// Backfill (beyond Bitcart) is how a backend that scans the chain
	// looks a new wallet's history up, and how far it came.
	Backfill *chain.BackfillStatus `json:"backfill,omitempty"`
}

// getinfo is Electrum's getinfo with Bitcart's additions. server is the
// backend's host; spv_nodes counts the live backend connection;
// fee_estimates holds the node's estimates for Electrum's targets (none
// while disconnected); synchronized is false while walletd is behind its
// node or has no node (Bitcart says true when disconnected).
func (d *Daemon) getinfo(ctx context.Context, _ *base.Call, _ base.NoArgs) (any, error) {
	info := Info{
		Network:        d.net.Name,
		Path:           d.cfg.DataPath,
		Server:         serverHost(d.cfg.Server),
		Version:        ElectrumVersion,
		WalletdVersion: d.cfg.Version,
		FeeEstimates:   map[string]int64{},
		AutoConnect:    d.conf.boolean("auto_connect", true),
	}
	if d.coin.Flavor == ElectronCash {
		info.Version = ElectronCashVersion
		rate, _ := d.conf.getLegacy("fee_per_kb").(int64)
		info.FeePerKB = &rate
	}
	if s, ok := d.backend.(serverNamer); ok {
		info.Server = s.ServerHost()
	}
	info.BlockchainHeight = d.engine.Height()
	info.TotalWallets = d.engine.TotalWallets()
	info.Synchronized = d.engine.Synced()
	if d.backend != nil && d.backend.Connected() {
		info.Connected = true
		info.SPVNodes = 1
		if tip, err := d.backend.Tip(ctx); err == nil {
			info.ServerHeight = tip.Height
		}
		for _, target := range feeETATargets[:len(feeETATargets)-1] {
			if rate, ok := (&sendSide{d: d}).nodeEstimate(ctx, target); ok {
				info.FeeEstimates[strconv.FormatInt(target, 10)] = rate
			}
		}
	}
	if r, ok := d.backend.(chain.BackfillReporter); ok {
		st := r.BackfillStatus()
		info.Backfill = &st
	}
	return info, nil
}

// serverNamer is a backend with several servers (Electrum) that names the
// one in use.
type serverNamer interface{ ServerHost() string }

// serverHost is the host of the backend URL, as Electrum's getinfo shows
// its server's host (no scheme, port or credentials).
func serverHost(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Hostname()
}

type keyArgs struct {
	Key string `rpc:"key,required"`
}

func (d *Daemon) validatekey(_ context.Context, _ *base.Call, a keyArgs) (any, error) {
	return keys.ValidateKey(a.Key, d.net), nil
}

type addressArgs struct {
	Address string `rpc:"address,required"`
}

func (d *Daemon) validateaddress(_ context.Context, _ *base.Call, a addressArgs) (any, error) {
	return d.net.ValidAddress(a.Address), nil
}
