package utxo

import (
	"log/slog"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/corerpc"
)

// CoreBackend is the configuration of the Core JSON-RPC backend
// (<COIN>_SERVER=http://… or https://…), embedded in Config so its
// variables are <COIN>_SERVER_COOKIE, <COIN>_SERVER_MAX_REQUESTS,
// <COIN>_POLL_INTERVAL, <COIN>_ZMQ, <COIN>_BIRTHDAY and
// <COIN>_BLOCK_FILTERS.
type CoreBackend struct {
	// ServerCookie is the node's .cookie file, used when the server URL
	// carries no user (re-read whenever the node restarts).
	ServerCookie string `split_words:"true"`
	// ServerMaxRequests is how many HTTP requests walletd keeps in flight
	// to the node at once (default 8: under Core's work queue of 16 and
	// btcd's 10 clients); a node answering busy anyway is asked again.
	ServerMaxRequests int `split_words:"true" default:"8"`
	// PollInterval is how often the tip and the mempool are polled
	// (default 250ms; 2s when ZMQ is set).
	PollInterval time.Duration `split_words:"true"`
	// ZMQ lists the node's ZMQ publishers (tcp://host:port, comma
	// separated) for rawtx, sequence, hashblock and rawblock.
	ZMQ []string
	// Birthday is the first height a new wallet's history is scanned
	// from; -1 (default) means the node's tip when the daemon started.
	Birthday int32 `default:"-1"`
	// BlockFilters picks the backfill method: auto (BIP158 filters when
	// the node serves them), bip158 or blocks.
	BlockFilters string `split_words:"true" default:"auto"`
}

// openCore builds the Core backend for server.
func openCore(server string, cfg Config, log *slog.Logger) (chain.Backend, error) {
	b, err := corerpc.New(corerpc.Config{
		URL:          server,
		CookieFile:   cfg.ServerCookie,
		MaxRequests:  cfg.ServerMaxRequests,
		PollInterval: cfg.PollInterval,
		ZMQ:          cfg.ZMQ,
		Birthday:     cfg.Birthday,
		Filters:      cfg.BlockFilters,
	}, log)
	if err != nil {
		return nil, err
	}
	return b, nil
}
