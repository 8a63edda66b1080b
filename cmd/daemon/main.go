// Command daemon runs one walletd coin daemon: `daemon btc`. The coin comes
// from the first argument (or WALLETD_COIN); its configuration from
// <COIN>_* environment variables (contract.md §8). This is the only package
// that reads the environment.
//
// SIGINT or SIGTERM stops accepting connections, closes websockets with
// code 1001, lets in-flight requests finish (bounded), releases the backend
// and the store, and exits 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/daemons/bch"
	"github.com/walletd/walletd/daemons/btc"
	"github.com/walletd/walletd/daemons/ltc"
	"github.com/walletd/walletd/daemons/utxo"
)

// defaultPassword is Bitcart's (and walletd's) default <COIN>_PASSWORD.
const defaultPassword = "electrumz"

// coinDef is what main needs to know about a coin.
type coinDef struct {
	prefix      string
	defaultPort int
	build       func(ctx context.Context, cfg utxo.Config, log *slog.Logger) (*utxo.Daemon, error)
}

// coins lists the daemons this binary can run.
func coins() map[string]coinDef {
	return map[string]coinDef{
		"btc": {prefix: btc.EnvPrefix, defaultPort: btc.DefaultPort, build: btc.New},
		"bch": {prefix: bch.EnvPrefix, defaultPort: bch.DefaultPort, build: bch.New},
		"ltc": {prefix: ltc.EnvPrefix, defaultPort: ltc.DefaultPort, build: ltc.New},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// run starts the daemon and blocks until ctx ends; it returns the exit
// code. ready, if not nil, receives the listening address once serving.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) int {
	if code, ok := tool(ctx, args, os.Stdout, stderr); ok {
		return code
	}
	name := os.Getenv("WALLETD_COIN")
	if len(args) > 0 {
		name = args[0]
	}
	name = strings.ToLower(name)
	def, ok := coins()[name]
	if !ok {
		fmt.Fprintf(stderr, "usage: daemon <coin>   (coins: %s)\n       daemon version | healthcheck [-ready] [coin]\n", strings.Join(coinNames(), ", "))
		return 2
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: %v\n", name, err)
		return 1
	}
	vars, settingsPath, err := readSettingsFile(cwd)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: configuration: %v\n", name, err)
		return 2
	}
	fromFile, ignored, err := applySettings(def.prefix, vars)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: configuration: %s: %v\n", name, settingsPath, err)
		return 2
	}
	cfg, err := loadConfig(def)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: configuration: %v\n", name, err)
		return 2
	}
	cfg.Version = daemonVersion()
	if len(args) > 1 && args[1] == importCommand { // migration from Bitcart: import.go
		return runImport(ctx, def, cfg, args[2:], os.Stdout, stderr)
	}
	log := newLogger(stderr, cfg)
	if settingsPath != "" {
		sort.Strings(fromFile)
		log.Info("settings file read (the environment wins over it)", "path", settingsPath, "variables", fromFile)
		sort.Strings(ignored)
		if len(ignored) > 0 {
			log.Warn("settings file variables ignored: only "+def.prefix+"_* variables are read from it "+
				"(IN_DOCKER, ELECTRUMDIR and BITCART_OTEL_ENABLED only from the environment, as in Bitcart)",
				"variables", ignored)
		}
	}
	warnExposure(log, def.prefix, cfg)
	d, err := def.build(ctx, cfg, log)
	if errors.Is(err, utxo.ErrBadServer) {
		fmt.Fprintf(stderr, "daemon %s: configuration: %v\n", name, err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: %v\n", name, err)
		return 1
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	rawLn, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: %v\n", name, err)
		return 1
	}
	ln := base.LimitConns(rawLn, cfg.MaxConns, log)
	read, write, idle, maxHeader := cfg.Limits.HTTPTimeouts()
	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: min(10*time.Second, read),
		ReadTimeout:       read,
		WriteTimeout:      write,
		IdleTimeout:       idle,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Websockets are hijacked connections: Shutdown does not wait for them,
	// so close them (1001) as shutdown begins.
	srv.RegisterOnShutdown(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.CloseClients(cctx)
	})
	if cfg.PprofAddr != "" {
		pln, err := net.Listen("tcp", cfg.PprofAddr)
		if err != nil {
			fmt.Fprintf(stderr, "daemon %s: %s_PPROF_ADDR: %v\n", name, def.prefix, err)
			return 1
		}
		go servePprof(pln, log)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("walletd serving", "coin", def.prefix, "network", cfg.Network, "addr", ln.Addr().String(),
		"data_path", cfg.DataPath)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	if err := d.Start(ctx); err != nil {
		log.Error("start", "err", err)
	}
	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		log.Error("server stopped", "err", err)
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("in-flight requests did not finish in time", "err", err)
	}
	if err := d.Close(); err != nil {
		log.Error("closing", "err", err)
		code = 1
	}
	log.Info("stopped")
	return code
}

func coinNames() []string {
	var out []string
	for n := range coins() {
		out = append(out, n)
	}
	return out
}

// loadConfig reads <PREFIX>_* variables and fills the computed defaults.
// Unset variables never fall back to unprefixed ones. Bitcart's variables
// that walletd does not have are checked too: each is honoured or refused
// here with an error naming it (see bitcartVars).
func loadConfig(def coinDef) (utxo.Config, error) {
	var cfg utxo.Config
	if err := envconfig.Process(def.prefix, &cfg); err != nil {
		return cfg, err
	}
	var bv bitcartVars
	if err := envconfig.Process(def.prefix, &bv); err != nil {
		return cfg, err
	}
	if err := bv.check(def.prefix); err != nil {
		return cfg, err
	}
	cfg.FiatCurrency = strings.TrimSpace(cfg.FiatCurrency)
	if cfg.ElectrumSessionScripts < 0 {
		return cfg, fmt.Errorf("%s_ELECTRUM_SESSION_SCRIPTS=%d: must not be negative (0: the default)", def.prefix, cfg.ElectrumSessionScripts)
	}
	cfg.BtcdFilter = strings.ToLower(strings.TrimSpace(cfg.BtcdFilter))
	if cfg.BtcdFilter != "local" && cfg.BtcdFilter != "node" {
		return cfg, fmt.Errorf("%s_BTCD_FILTER=%q: want local (match in walletd) or node (btcd's loadtxfilter)", def.prefix, cfg.BtcdFilter)
	}
	if cfg.PollingCap < 0 {
		// Bitcart fails on the first wallet load with a negative cap.
		return cfg, fmt.Errorf("%s_POLLING_CAP=%d: must not be negative", def.prefix, cfg.PollingCap)
	}
	if cfg.Login == "" || cfg.Password == "" {
		return cfg, fmt.Errorf("%s_LOGIN and %s_PASSWORD must not be empty: an empty credential lets anyone in",
			def.prefix, def.prefix)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
		// As Bitcart (os.getenv("IN_DOCKER")): an empty value is unset.
		if os.Getenv("IN_DOCKER") != "" {
			cfg.Host = "0.0.0.0"
		}
	}
	if cfg.Port == 0 {
		cfg.Port = def.defaultPort
	}
	cfg.Network = strings.ToLower(cfg.Network)
	if cfg.DataPath == "" {
		if dir := os.Getenv("ELECTRUMDIR"); dir != "" {
			// Bitcart leaves the data path to Electrum, which uses
			// ELECTRUMDIR plus a subfolder per test network.
			cfg.DataPath = filepath.Join(dir, electrumNetworkDir(cfg.Network))
		} else {
			base, err := os.UserConfigDir()
			if err != nil {
				home, herr := os.UserHomeDir()
				if herr != nil {
					return cfg, fmt.Errorf("%s_DATA_PATH is unset and there is no home directory: %w", def.prefix, err)
				}
				base = filepath.Join(home, ".config")
			}
			cfg.DataPath = filepath.Join(base, "walletd", strings.ToLower(def.prefix), cfg.Network)
		}
	}
	switch strings.ToLower(cfg.LogFormat) {
	case "text", "json":
	default:
		return cfg, fmt.Errorf("%s_LOG_FORMAT: %q is not text or json", def.prefix, cfg.LogFormat)
	}
	if cfg.PprofAddr != "" {
		if err := checkLoopback(cfg.PprofAddr); err != nil {
			return cfg, fmt.Errorf("%s_PPROF_ADDR=%s: %v; pprof has no authentication, so walletd serves it on "+
				"loopback only (for example 127.0.0.1:6060)", def.prefix, cfg.PprofAddr, err)
		}
	}
	// The bind address is a name clients may use in their Host header.
	cfg.AllowedHosts = append(cfg.AllowedHosts, cfg.Host)
	return cfg, nil
}

// electrumNetworkDir is the subfolder Electrum keeps a network's data in,
// under its user directory ("" for mainnet).
func electrumNetworkDir(network string) string {
	if network == "mainnet" {
		return ""
	}
	return network
}

// bitcartVars are the variables Bitcart's BTC-family daemons read that
// have no field in walletd's Config (FIAT_CURRENCY has one). Each is
// honoured or refused:
//
//   - ONESERVER: walletd connects to exactly one server (<COIN>_SERVER)
//     whatever its value, which is what true asks for; false asks for
//     nothing a client can see;
//   - LIGHTNING_LISTEN, LIGHTNING_GOSSIP, LIGHTNING_PUBLIC_CHANNELS and
//     LIGHTNING_ALLOW_INCOMING_CHANNELS only matter with <COIN>_LIGHTNING,
//     which walletd refuses; their values are still checked as Bitcart's
//     are;
//   - PROXY_URL is refused: walletd cannot route its node connection
//     through a proxy, and silently connecting directly would undo the
//     privacy the operator asked for.
//
// BITCART_OTEL_ENABLED, read by Bitcart from the environment only, is
// refused when true (walletd exports Prometheus metrics, not OpenTelemetry
// traces).
type bitcartVars struct {
	Oneserver                      base.Bool `envconfig:"ONESERVER"`
	ProxyURL                       string    `envconfig:"PROXY_URL"`
	LightningListen                string    `split_words:"true"`
	LightningGossip                base.Bool `split_words:"true"`
	LightningPublicChannels        base.Bool `split_words:"true"`
	LightningAllowIncomingChannels base.Bool `split_words:"true"`
}

func (bv bitcartVars) check(prefix string) error {
	if strings.TrimSpace(bv.ProxyURL) != "" {
		return fmt.Errorf("%s_PROXY_URL is set, but walletd cannot connect to its node through a proxy yet; "+
			"unset it (or route the connection with the operating system) rather than connect directly unknowingly", prefix)
	}
	if strings.EqualFold(os.Getenv("BITCART_OTEL_ENABLED"), "true") {
		return errors.New("BITCART_OTEL_ENABLED=true, but walletd has no OpenTelemetry export (it serves " +
			"Prometheus metrics on GET /metrics); unset it for this daemon")
	}
	return nil
}

// checkLoopback fails unless addr (host:port) names a loopback host.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !isLoopback(host) {
		return errors.New("not a loopback address")
	}
	return nil
}

// isLoopback reports whether host is "localhost" or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// warnExposure logs at start-up what makes the daemon easy to misuse: the
// default password on an address others can reach. It still starts:
// Bitcart's own containers run with the default inside a private network.
func warnExposure(log *slog.Logger, prefix string, cfg utxo.Config) {
	if cfg.Password == defaultPassword && !isLoopback(cfg.Host) {
		log.Warn("the default password is in use on an address other machines can reach: anyone who can "+
			"connect can call every method, spend from wallets whose keys are sent to the daemon and follow "+
			"every wallet's payments on /ws; set "+prefix+"_PASSWORD (and "+prefix+"_LOGIN), or bind to 127.0.0.1",
			"host", cfg.Host, "port", cfg.Port)
	}
}

func newLogger(w io.Writer, cfg utxo.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if cfg.Debug {
		opts.Level = slog.LevelDebug
	}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// servePprof serves the runtime profiles on their own listener (loopback
// only, see loadConfig), so they are never exposed on the daemon's port.
func servePprof(ln net.Listener, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	log.Info("pprof serving", "addr", ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		MaxHeaderBytes: base.DefaultMaxHeaderBytes}
	if err := srv.Serve(ln); err != nil {
		log.Error("pprof", "err", err)
	}
}
