package utxo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/coins/params"
)

// ErrBadServer is returned for a <COIN>_SERVER value walletd cannot use.
var ErrBadServer = fmt.Errorf("unsupported server URL")

// OpenBackend builds the chain backend cfg.Server names; the backend is not
// started.
//
//   - ws://user:pass@host:port or wss://…: a btcd-family node (btcdws).
//   - http://user:pass@host:port or https://…: a Core-style node's JSON-RPC
//     (corerpc).
//   - Electrum servers, in Bitcart's form host:port:s (SSL) or host:port:t
//     (TCP), or tcp://host:port / ssl://host:port, several separated by
//     commas: the Electrum backend, verified (SPV). With cfg.Oneserver
//     only the first is used; otherwise, on mainnet and testnet, the
//     built-in public servers follow the configured ones for failover (as
//     Electrum does).
//   - "": on a network with public Electrum servers (mainnet, testnet,
//     signet), those, in random order; on regtest and simnet no backend
//     (nil: the daemon serves the wallet-less methods). On a public
//     network without built-in servers (BCH's, where Bitcart would use
//     Electron Cash's servers) it is ErrBadServer: a daemon that silently
//     serves no wallet would lose a merchant's payments.
//
// A coin whose headers walletd cannot verify (BCH) refuses Electrum
// servers with ErrBadServer, naming the backends it has.
func OpenBackend(cfg Config, net *params.Network, log *slog.Logger) (chain.Backend, error) {
	server := strings.TrimSpace(cfg.Server)
	public := servers.Public(net.Coin, net.Name)
	rand.Shuffle(len(public), func(i, j int) { public[i], public[j] = public[j], public[i] })
	if server == "" {
		if len(public) > 0 {
			return openElectrum(cfg, net, public, log)
		}
		if net.Name == "regtest" || net.Name == "simnet" {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %s_SERVER is empty and walletd has no public servers for %s; "+
			"name your node: ws://user:pass@host:port (btcd, bchd) or http://user:pass@host:port (a Core-style node)",
			ErrBadServer, strings.ToUpper(net.Coin), net)
	}
	if i := strings.Index(server, "://"); i >= 0 {
		switch strings.ToLower(server[:i]) {
		case "ws", "wss":
			if _, err := url.Parse(server); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadServer, redactErr(err))
			}
			local, err := btcdLocal(cfg.BtcdFilter)
			if err != nil {
				return nil, err
			}
			bc := btcdws.Config{URL: server, Params: net.Chain, TLS: btcdws.TLSOptions{RootCAsFile: cfg.ServerCert},
				MatchLocally: local}
			if c := net.CashAddr(); c != nil {
				bc.AddressOf = c.Encode // bchd's filter and address index take cashaddrs
			}
			return btcdws.New(bc, log)
		case "http", "https":
			return openCore(server, cfg, log)
		case "tcp", "ssl", "tls":
		default:
			return nil, fmt.Errorf("%w: scheme %q (supported: ws://, wss://, http://, https://, tcp://, ssl://, host:port:s|t)", ErrBadServer, server[:i])
		}
	}
	list, err := servers.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadServer, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no server in %q", ErrBadServer, server)
	}
	if !cfg.Oneserver {
		list = append(list, public...)
	}
	return openElectrum(cfg, net, list, log)
}

// openElectrum builds the Electrum backend for list. Certificates of SSL
// servers that are not CA-signed are pinned on first use in the data
// directory (electrum-certs/); the verified header chain is kept there
// (electrum-headers) so that a restart resumes from it.
func openElectrum(cfg Config, net *params.Network, list []servers.Server, log *slog.Logger) (chain.Backend, error) {
	rules, err := headers.ForNetwork(net)
	if err != nil {
		return nil, fmt.Errorf("%w: Electrum-protocol servers are not supported for %s (its header rules are not "+
			"implemented, and walletd does not trust a server it cannot verify); use ws:// to a btcd-family node "+
			"or http:// to a Core-style node: %v", ErrBadServer, net.Coin, err)
	}
	var pinDir, headersPath string
	if cfg.DataPath != "" {
		pinDir = filepath.Join(cfg.DataPath, "electrum-certs")
		headersPath = filepath.Join(cfg.DataPath, "electrum-headers")
	}
	return electrum.New(electrum.Config{
		Servers:     list,
		OneServer:   bool(cfg.Oneserver),
		Rules:       rules,
		Pins:        servers.NewPins(pinDir, nil),
		HeadersPath: headersPath,
		// SessionScripts: Config's default when 0.
		SessionScripts: cfg.ElectrumSessionScripts,
	}, log)
}

// redactErr drops URL text from url.Parse errors, which quote the input
// (and so the password).
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// NewFor builds coin's daemon for cfg with the chain backend cfg.Server
// names (OpenBackend): what each coin package's New does.
func NewFor(ctx context.Context, coin Coin, cfg Config, log *slog.Logger) (*Daemon, error) {
	net, err := coin.Network(cfg.Network)
	if err != nil {
		return nil, err
	}
	backend, err := OpenBackend(cfg, net, log)
	if err != nil {
		return nil, err
	}
	return New(ctx, coin, cfg, backend, log)
}

// btcdLocal reads <COIN>_BTCD_FILTER: whether a btcd-family backend
// matches locally ("local", or empty: the default) or in the node's filter
// ("node").
func btcdLocal(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "local":
		return true, nil
	case "node":
		return false, nil
	}
	return false, fmt.Errorf("<COIN>_BTCD_FILTER=%q: want local or node", v)
}
