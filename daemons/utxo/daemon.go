// Package utxo is the BTC-family daemon (Bitcart's BTCDaemon): the methods
// of contract.md §6 over coins/keys, coins/params and (through the wallet
// engine) a chain backend, served by daemons/base. Per-coin packages
// (daemons/btc, …) give it a Coin and a Config and choose the backend.
package utxo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
	"github.com/walletd/walletd/coins/wallet/memstore"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// Version is walletd's built-in version (Config.Version overrides it with
// the build's stamp).
const Version = "0.1.0"

// Coin describes one BTC-family coin to the daemon.
type Coin struct {
	// Ticker is the coin's symbol ("BTC"), used in frames and amount keys.
	Ticker string
	// Network returns the coin's parameters for a network name.
	Network func(name string) (*params.Network, error)
	// CatalogName selects the spec overlay ("btc", "bch").
	CatalogName string
	// Engine describes the coin on a network to the wallet engine (key
	// material, signer, capabilities, policy); nil means
	// wallet.Bitcoin.
	Engine func(n *params.Network) wallet.Coin
	// Flavor is the reference wallet the daemon reproduces (Electrum, the
	// zero value, or ElectronCash).
	Flavor Flavor
}

// Config is the environment-facing configuration shared by every
// BTC-family daemon; cmd/daemon fills it from <COIN>_* variables. Field
// names map to variables through split_words (DataPath → <COIN>_DATA_PATH);
// no field has an unprefixed fallback.
type Config struct {
	Host     string
	Port     int
	Login    string `default:"electrum"`
	Password string `default:"electrumz"`
	Network  string `default:"mainnet"`
	DataPath string `split_words:"true"`
	Debug    base.Bool
	// Server picks the chain backend (see OpenBackend): a btcd websocket
	// URL, or Electrum servers (host:port:s|t, tcp://, ssl://; several
	// separated by commas; empty: the public ones on mainnet/testnet).
	Server string
	// Oneserver keeps the Electrum backend on the first server of Server
	// (Bitcart's <COIN>_ONESERVER): no failover.
	Oneserver          base.Bool
	ExperimentalNosync base.Bool `split_words:"true"`
	PollingCap         int       `split_words:"true" default:"100"`
	Lightning          base.Bool
	// FiatCurrency is the default of the `currency` config key, as
	// Bitcart sets Electrum's.
	FiatCurrency string `split_words:"true" default:"USD"`
	// CoreBackend configures an http(s):// server (Core JSON-RPC).
	CoreBackend

	// ServerCert is a PEM file of the certificates trusted for the node's
	// TLS (wss://) instead of the system roots, such as btcd's rpc.cert. It
	// is read at every connection attempt, so it may appear after start.
	ServerCert string `split_words:"true"`
	// BtcdFilter chooses where a btcd-family backend (ws://, wss://)
	// matches transactions: "local" (the default) against the wallet
	// engine's own script index, reading every block and mempool
	// transaction (start-up costs nothing however many scripts are
	// tracked); "node" in btcd's loadtxfilter, which must be handed every
	// tracked script at each connection (minutes at millions of scripts).
	BtcdFilter string `split_words:"true" default:"local"`
	// ElectrumSessionScripts is the most scripts the Electrum backend
	// subscribes on one session to a server (0: the backend's default,
	// sized for ElectrumX's default cost limits).
	ElectrumSessionScripts int `split_words:"true"`
	// Version is walletd's own version, reported by getinfo's
	// walletd_version, version_info and GET /spec (version() and getinfo's
	// version are Electrum's, as in Bitcart): the build's stamp, set by
	// cmd/daemon (never from the environment); empty means the package's
	// Version.
	Version string `ignored:"true"`

	// Beyond the contract.
	LogFormat    string        `split_words:"true" default:"text"`
	MaxBodyBytes int64         `split_words:"true" default:"1048576"`
	MaxBatch     int           `split_words:"true" default:"100"`
	SyncTimeout  time.Duration `split_words:"true" default:"30s"`
	WSQueue      int           `split_words:"true" default:"1024"`
	// WSMaxClients caps websocket clients; WSOrigins lists the browser
	// origins allowed to open /ws (none by default; "*" any).
	WSMaxClients int      `split_words:"true" default:"1000"`
	WSOrigins    []string `split_words:"true"`
	// EventRetention and EventMaxAge bound the event log.
	EventRetention int           `split_words:"true" default:"1000000"`
	EventMaxAge    time.Duration `split_words:"true" default:"720h"`
	// IdleEvict drops an idle wallet's key material from memory.
	IdleEvict time.Duration `split_words:"true" default:"10m"`
	// MaxWallets bounds the tracked wallets (wallet.Config.MaxWallets);
	// ExpiredRescanWindow bounds the reconnect rescan of expired requests.
	MaxWallets          int           `split_words:"true" default:"1000000"`
	ExpiredRescanWindow time.Duration `split_words:"true" default:"168h"`
	// PprofAddr, when set, serves net/http/pprof on this separate address
	// (for profiling; cmd/daemon refuses an address off loopback).
	PprofAddr string `split_words:"true"`

	// MaxTxFee and MaxFeeRate (coin units per 1000 vbytes) refuse a
	// transaction walletd builds whose absolute fee or fee rate is higher,
	// as Bitcoin Core's -maxtxfee and maxfeerate do (same defaults: 0.1),
	// unless the call passes allow_high_fee=true. Zero means the default.
	MaxTxFee   CoinAmount `split_words:"true" default:"0.1"`
	MaxFeeRate CoinAmount `split_words:"true" default:"0.1"`
	// MaxAddressHistory bounds the transactions getaddresshistory,
	// getaddressbalance and getaddressunspent take for one address
	// (Fulcrum's max_history default); past it they answer an error.
	// Zero means the default.
	MaxAddressHistory int `split_words:"true" default:"125000"`
	// Limits are the HTTP server's bounds (<COIN>_READ_TIMEOUT, …).
	base.Limits

	// wrapStore, when set (by tests), wraps the store the wallet engine
	// reads, to hold its start-up reading.
	wrapStore func(wallet.Store) wallet.Store
}

// Daemon is one coin's daemon. Build it with New, serve Handler, stop it
// with Shutdown.
type Daemon struct {
	// amountKey is the pre-encoded `"amount_<TICKER>":` of request replies.
	amountKey string
	coin      Coin
	cfg       Config
	net       *params.Network
	backend   chain.Backend
	store     *boltstore.Store
	engine    *wallet.Engine
	hub       *base.Hub
	srv       *base.Server
	log       *slog.Logger
	// conf is the Electrum configuration getconfig/setconfig see.
	conf *electrumConfig
}

// ErrLightningUnavailable is returned by New when lightning is asked for:
// walletd has no lightning yet and never runs half a lightning mode.
var ErrLightningUnavailable = errors.New("lightning is not available in walletd yet; unset <COIN>_LIGHTNING")

// New builds a daemon. backend may be nil (no <COIN>_SERVER): wallet-less
// methods still answer and getinfo says connected: false.
func New(ctx context.Context, coin Coin, cfg Config, backend chain.Backend, log *slog.Logger) (*Daemon, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Lightning {
		return nil, ErrLightningUnavailable
	}
	net, err := coin.Network(cfg.Network)
	if err != nil {
		return nil, err
	}
	cat, err := spec.Load(coin.CatalogName, false)
	if err != nil {
		return nil, err
	}
	if cfg.Version == "" {
		cfg.Version = Version
	}
	cat.Version = cfg.Version
	if cfg.DataPath == "" {
		return nil, errors.New("no data path configured")
	}
	d := &Daemon{coin: coin, cfg: cfg, net: net, backend: backend, log: log,
		amountKey: `"amount_` + coin.Ticker + `":`}
	d.conf = newElectrumConfig(d.configDefaults(), d.feeCaps())
	table, err := d.methods()
	if err != nil {
		return nil, err
	}
	storePath := filepath.Join(cfg.DataPath, strings.ToLower(coin.Ticker)+"-"+net.Name+".db")
	if d.store, err = boltstore.Open(storePath); err != nil {
		return nil, err
	}
	wcoin := wallet.Bitcoin(net)
	if coin.Engine != nil {
		wcoin = coin.Engine(net)
	}
	hub := base.NewHub(base.HubConfig{Currency: coin.Ticker, QueueSize: cfg.WSQueue, MaxClients: cfg.WSMaxClients,
		Origins: cfg.WSOrigins, Resolve: walletResolver(net, wcoin.Parse), Log: log})
	d.hub = hub
	var engineStore wallet.Store = d.store
	if cfg.wrapStore != nil {
		engineStore = cfg.wrapStore(engineStore)
	}
	// The engine reads the tracked wallets in the background: the daemon
	// serves at once, wallet calls wait for them (SyncTimeout).
	d.engine, err = wallet.New(ctx, wallet.Config{Coin: wcoin, Store: engineStore, Volatile: memstore.New(), Backend: backend, Log: log,
		PublishBatch: d.publishBatch, SyncTimeout: cfg.SyncTimeout, NoSync: bool(cfg.ExperimentalNosync),
		PollingCap: cfg.PollingCap, EventRetention: cfg.EventRetention, EventMaxAge: cfg.EventMaxAge,
		IdleEvict: cfg.IdleEvict, MaxWallets: cfg.MaxWallets, ExpiredRescanWindow: cfg.ExpiredRescanWindow,
		BackgroundLoad: true})
	if err != nil {
		_ = d.store.Close()
		return nil, err
	}
	hub.SetSource(eventSource{d})
	d.srv, err = base.New(base.Config{
		Currency:     coin.Ticker,
		Login:        cfg.Login,
		Password:     cfg.Password,
		MaxBodyBytes: cfg.MaxBodyBytes,
		MaxBatch:     cfg.MaxBatch,
		Catalog:      cat,
		Methods:      table,
		Errors:       ErrorTable(),
		Hub:          hub,
		Ready:        d.ready,
		Log:          log,
		Limits:       cfg.Limits,
	})
	if err != nil {
		return nil, err
	}
	if err := d.registerMetrics(d.srv.Registerer()); err != nil {
		return nil, err
	}
	return d, nil
}

// registerMetrics adds the engine's and backend's state to /metrics.
func (d *Daemon) registerMetrics(reg prometheus.Registerer) error {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	boolf := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, c := range []prometheus.Collector{
		gauge("walletd_wallets_tracked", "Wallets whose scripts are tracked.", func() float64 { return float64(d.engine.TotalWallets()) }),
		gauge("walletd_wallets_loaded", "Wallets whose key material is in memory.", func() float64 { return float64(d.engine.LoadedWallets()) }),
		gauge("walletd_chain_height", "Height of the last applied block.", func() float64 { return float64(d.engine.Height()) }),
		gauge("walletd_synchronized", "1 when caught up with the backend's tip.", func() float64 { return boolf(d.engine.Synced()) }),
		gauge("walletd_backend_connected", "1 when the chain backend's connection is live.", func() float64 {
			return boolf(d.backend != nil && d.backend.Connected())
		}),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Handler is the daemon's HTTP handler (POST /, GET /ws, GET /spec, …).
func (d *Daemon) Handler() http.Handler { return d.srv }

// Start connects the chain backend in the background and returns at once:
// wallet-less methods answer while it connects.
func (d *Daemon) Start(ctx context.Context) error {
	if d.backend == nil {
		d.log.Warn("no chain backend configured; wallet methods are unavailable")
		return nil
	}
	return d.engine.Start(ctx)
}

// publishBatch forwards one commit's logged events to websocket clients
// at once (a block's burst goes out in few writes per client).
func (d *Daemon) publishBatch(evs []wallet.Event) {
	out := make([]base.Event, len(evs))
	for i, ev := range evs {
		out[i] = base.Event{Seq: ev.Seq, WalletID: ev.WalletID, Wallet: ev.WalletKey, Payload: d.renderEvent(ev)}
	}
	d.hub.PublishBatch(out)
}

// walletResolver maps a websocket register frame's key, in any form the
// coin reads (parse: keys.Parse, or keys.ParseElectronCash for BCH), to
// the fingerprint the engine's events carry.
func walletResolver(net *params.Network, parse func(string, *params.Network) (*keys.Material, error)) base.Resolver {
	return func(_ context.Context, key string) (string, bool) {
		m, err := parse(key, net)
		if err != nil {
			return "", false
		}
		return m.Fingerprint(), true
	}
}

// eventSource adapts the engine's event log to the hub's replay.
type eventSource struct{ d *Daemon }

func (s eventSource) EventsAfter(ctx context.Context, after uint64, limit int) ([]base.Event, error) {
	evs, err := s.d.engine.EventsAfter(ctx, after, limit)
	out := make([]base.Event, len(evs))
	for i, ev := range evs {
		out[i] = base.Event{Seq: ev.Seq, WalletID: ev.WalletID, Wallet: ev.WalletKey, Payload: s.d.renderEvent(ev)}
	}
	return out, err
}

// CloseClients closes every websocket with code 1001, bounded by ctx.
func (d *Daemon) CloseClients(ctx context.Context) error {
	return d.srv.Shutdown(ctx)
}

// Close stops the engine and releases the backend and the store (flushed);
// call it after the HTTP server has finished its in-flight requests.
func (d *Daemon) Close() error {
	d.engine.Close()
	var err error
	if d.backend != nil {
		err = d.backend.Close()
	}
	return errors.Join(err, d.store.Close())
}

// ready reports readiness for /readyz: a backend that is connected.
func (d *Daemon) ready() error {
	if d.backend == nil {
		return errors.New("no chain backend configured")
	}
	if !d.backend.Connected() {
		return errors.New("chain backend not connected")
	}
	if !d.engine.Synced() {
		return errors.New("catching up with the chain")
	}
	return nil
}

// redactedServer returns the backend URL without its password.
func redactedServer(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Phrases that start the messages of some codes: each is a key of the
// served electrum_map for its code, as Bitcart's messages are.
const (
	msgLoadingWallet  = "Seed or key not recognized"
	msgInvalidAddress = "Invalid address"
	// msgAddressChecksum is Electron Cash's text for a cashaddr with a bad
	// checksum (Bitcart's BCH spec maps it to -32004).
	msgAddressChecksum = "invalid checksum in address"
	msgTxNotFound      = "No such mempool or blockchain transaction"
)

// ErrorTable is the one place where errors of the coins packages become
// contract codes; the first match wins.
func ErrorTable() base.ErrorTable {
	return base.ErrorTable{
		{Target: keys.ErrUnrecognized, Code: spec.LoadingWallet, Message: msgLoadingWallet},
		{Target: keys.ErrUnsupportedKey, Code: spec.LoadingWallet, Message: msgLoadingWallet},
		{Target: params.ErrAddressChecksum, Code: spec.InvalidAddress, Message: msgAddressChecksum},
		{Target: params.ErrInvalidAddress, Code: spec.InvalidAddress, Message: msgInvalidAddress},
		{Target: keys.ErrUnknownAddress, Code: spec.InvalidAddress, Message: msgInvalidAddress},
		{Target: chain.ErrNotFound, Code: spec.TxNotFound, Message: msgTxNotFound},
		{Target: wallet.ErrTxNotFound, Code: spec.TxNotFound, Message: msgTxNotFound},
		{Target: wallet.ErrRequestNotFound, Code: spec.RequestNotFound},
		{Target: errInvoiceNotFound, Code: spec.InvoiceNotFound},
		{Target: wallet.ErrGapLimitRange, Code: spec.InvalidParams},
		{Target: wallet.ErrInvalidLabel, Code: spec.InvalidParams},
		{Target: keys.ErrNoPrivateKey, Code: spec.InvalidParams},
		{Target: keys.ErrNotDeterministic, Code: spec.InvalidParams},
		{Target: wallet.ErrInvalidAmount, Code: spec.InvalidParams},
		{Target: wallet.ErrGapLimit, Code: spec.InvalidParams},
		{Target: wallet.ErrNotEnoughFunds, Code: spec.NotEnoughFunds},
		{Target: wallet.ErrFeeAndFeerate, Code: spec.InvalidParams},
		{Target: errNoFeeEstimates, Code: spec.NoFeeEstimates},
		{Target: errFeeTooHigh, Code: spec.InvalidParams},
		{Target: wallet.ErrNoFee, Code: spec.InvalidParams},
		{Target: wallet.ErrInvalidTx, Code: spec.InvalidParams},
		{Target: wallet.ErrDustOutput, Code: spec.InvalidParams},
		{Target: wallet.ErrNoOutputs, Code: spec.InvalidParams},
		{Target: wallet.ErrCannotBump, Code: spec.InvalidParams},
		{Target: wallet.ErrRBFUnsupported, Code: spec.InvalidParams},
		{Target: wallet.ErrPSBTUnsupported, Code: spec.InvalidParams},
		{Target: bch.ErrTokenCoin, Code: spec.InvalidParams},
		{Target: wallet.ErrNotLocal, Code: spec.InvalidParams},
		{Target: wallet.ErrWatchOnly, Code: spec.InvalidParams},
		{Target: wallet.ErrIncomplete, Code: spec.InvalidParams},
		{Target: wallet.ErrDisklessUnsupported, Code: spec.LoadingWallet},
		{Target: wallet.ErrInvalidExpiry, Code: spec.InvalidParams},
		{Target: wallet.ErrTooManyWallets, Code: spec.LoadingWallet},
		{Target: wallet.ErrStoreVersion, Code: spec.WalletVersionMism},
		{Target: errBackendUnsupported, Code: spec.BackendUnsupported},
		// A node's refusal: uncataloged, so the SDK shows the node's reason.
		{Target: chain.ErrRejected, Code: spec.Internal},
		{Target: wallet.ErrNotSynced, Code: spec.Internal},
		{Target: wallet.ErrNoBackend, Code: spec.Internal},
		{Target: chain.ErrNotConnected, Code: spec.Internal},
	}
}
