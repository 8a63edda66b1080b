package utxo

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/coins/params"
)

// ErrBadServer is returned for a <COIN>_SERVER value walletd cannot use.
var ErrBadServer = fmt.Errorf("unsupported server URL")

// OpenBackend builds the chain backend named by cfg.Server, whose scheme
// picks the kind: "" means none. The backend is not started.
func OpenBackend(cfg Config, net *params.Network, log *slog.Logger) (chain.Backend, error) {
	server := cfg.Server
	if server == "" {
		return nil, nil
	}
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadServer, redactErr(err))
	}
	switch u.Scheme {
	case "ws", "wss":
		return btcdws.New(btcdws.Config{URL: server, Params: net.Chain,
			TLS: btcdws.TLSOptions{RootCAsFile: cfg.ServerCert}}, log)
	default:
		return nil, fmt.Errorf("%w: scheme %q (supported: ws://, wss://)", ErrBadServer, u.Scheme)
	}
}

// redactErr drops URL text from url.Parse errors, which quote the input
// (and so the password).
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
