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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/walletd/walletd/daemons/btc"
	"github.com/walletd/walletd/daemons/utxo"
)

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
	name := os.Getenv("WALLETD_COIN")
	if len(args) > 0 {
		name = args[0]
	}
	name = strings.ToLower(name)
	def, ok := coins()[name]
	if !ok {
		fmt.Fprintf(stderr, "usage: daemon <coin>   (coins: %s)\n", strings.Join(coinNames(), ", "))
		return 2
	}
	cfg, err := loadConfig(def)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: configuration: %v\n", name, err)
		return 2
	}
	if len(args) > 1 && args[1] == importCommand { // migration from Bitcart: import.go
		return runImport(ctx, def, cfg, args[2:], os.Stdout, stderr)
	}
	log := newLogger(stderr, cfg)
	d, err := def.build(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: %v\n", name, err)
		return 1
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "daemon %s: %v\n", name, err)
		return 1
	}
	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
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
		go servePprof(cfg.PprofAddr, log)
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
// Unset variables never fall back to unprefixed ones.
func loadConfig(def coinDef) (utxo.Config, error) {
	var cfg utxo.Config
	if err := envconfig.Process(def.prefix, &cfg); err != nil {
		return cfg, err
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
		if _, docker := os.LookupEnv("IN_DOCKER"); docker {
			cfg.Host = "0.0.0.0"
		}
	}
	if cfg.Port == 0 {
		cfg.Port = def.defaultPort
	}
	cfg.Network = strings.ToLower(cfg.Network)
	if cfg.DataPath == "" {
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
	switch strings.ToLower(cfg.LogFormat) {
	case "text", "json":
	default:
		return cfg, fmt.Errorf("%s_LOG_FORMAT: %q is not text or json", def.prefix, cfg.LogFormat)
	}
	return cfg, nil
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

// servePprof serves the runtime profiles on their own listener, so they
// are never exposed on the daemon's port.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	log.Info("pprof serving", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof", "err", err)
	}
}
