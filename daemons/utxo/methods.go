package utxo

import (
	"context"

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
	return b.Table()
}

func (d *Daemon) version(context.Context, *base.Call, base.NoArgs) (any, error) {
	return d.cfg.Version, nil
}

// Info is getinfo's reply.
type Info struct {
	Network          string `json:"network"`
	Path             string `json:"path"`
	Server           string `json:"server"`
	BlockchainHeight int32  `json:"blockchain_height"`
	ServerHeight     int32  `json:"server_height"`
	Connected        bool   `json:"connected"`
	Version          string `json:"version"`
	Synchronized     bool   `json:"synchronized"`
	TotalWallets     int    `json:"total_wallets"`
	SPVNodes         int    `json:"spv_nodes"`
	AutoConnect      bool   `json:"auto_connect"`
	DefaultWallet    any    `json:"default_wallet"`
}

func (d *Daemon) getinfo(ctx context.Context, _ *base.Call, _ base.NoArgs) (any, error) {
	info := Info{
		Network: d.net.Name,
		Path:    d.cfg.DataPath,
		Server:  redactedServer(d.cfg.Server),
		Version: d.cfg.Version,
	}
	info.BlockchainHeight = d.engine.Height()
	info.TotalWallets = d.engine.TotalWallets()
	info.Synchronized = d.engine.Synced()
	if d.backend != nil && d.backend.Connected() {
		info.Connected = true
		if tip, err := d.backend.Tip(ctx); err == nil {
			info.ServerHeight = tip.Height
		}
	}
	return info, nil
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
