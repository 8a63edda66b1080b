package main

import (
	"strings"
	"testing"
	"time"
)

func btcDef() coinDef { return coins()["btc"] }

func TestConfigDefaults(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "127.0.0.1" || cfg.Port != 5000 || cfg.Login != "electrum" || cfg.Password != "electrumz" ||
		cfg.Network != "mainnet" || cfg.PollingCap != 100 || bool(cfg.Debug) || bool(cfg.Lightning) ||
		bool(cfg.ExperimentalNosync) || cfg.Server != "" {
		t.Errorf("defaults: %+v", cfg)
	}
	if !strings.HasSuffix(cfg.DataPath, "/walletd/btc/mainnet") {
		t.Errorf("data path %q lacks the coin and network subfolders", cfg.DataPath)
	}
}

func TestConfigInDocker(t *testing.T) {
	t.Setenv("IN_DOCKER", "1")
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "0.0.0.0" {
		t.Errorf("host %q, want 0.0.0.0 in docker", cfg.Host)
	}
	t.Setenv("BTC_HOST", "10.1.2.3")
	cfg, _ = loadConfig(btcDef())
	if cfg.Host != "10.1.2.3" {
		t.Errorf("BTC_HOST ignored: %q", cfg.Host)
	}
}

func TestConfigNoUnprefixedFallback(t *testing.T) {
	for k, v := range map[string]string{"HOST": "6.6.6.6", "PORT": "6666", "LOGIN": "x", "PASSWORD": "y",
		"NETWORK": "testnet", "DATA_PATH": "/nope", "SERVER": "ws://evil", "DEBUG": "yes", "LIGHTNING": "true",
		"POLLING_CAP": "7", "EXPERIMENTAL_NOSYNC": "on"} {
		t.Setenv(k, v)
	}
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host == "6.6.6.6" || cfg.Port == 6666 || cfg.Login == "x" || cfg.Password == "y" || cfg.Network == "testnet" ||
		cfg.DataPath == "/nope" || cfg.Server != "" || bool(cfg.Debug) || bool(cfg.Lightning) || cfg.PollingCap == 7 ||
		bool(cfg.ExperimentalNosync) {
		t.Errorf("an unprefixed variable leaked into the config: %+v", cfg)
	}
}

func TestConfigPrefixed(t *testing.T) {
	env := map[string]string{"BTC_PORT": "5999", "BTC_LOGIN": "u", "BTC_PASSWORD": "p:w", "BTC_NETWORK": "RegTest",
		"BTC_DATA_PATH": "/tmp/x", "BTC_SERVER": "ws://u:p@127.0.0.1:1", "BTC_POLLING_CAP": "5",
		"BTC_EXPERIMENTAL_NOSYNC": "YES", "BTC_DEBUG": "On", "BTC_MAX_BODY_BYTES": "77", "BTC_MAX_BATCH": "3"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 5999 || cfg.Login != "u" || cfg.Password != "p:w" || cfg.Network != "regtest" || cfg.DataPath != "/tmp/x" ||
		cfg.Server != "ws://u:p@127.0.0.1:1" || cfg.PollingCap != 5 || !bool(cfg.ExperimentalNosync) || !bool(cfg.Debug) ||
		cfg.MaxBodyBytes != 77 || cfg.MaxBatch != 3 {
		t.Errorf("config: %+v", cfg)
	}
}

func TestConfigBooleanForms(t *testing.T) {
	// python-decouple's cast=bool set, which Bitcart's daemons use.
	for v, want := range map[string]bool{"1": true, "yes": true, "TRUE": true, "On": true, "y": true, "T": true,
		"0": false, "no": false, "False": false, "OFF": false, "": false, "N": false, "f": false} {
		t.Setenv("BTC_DEBUG", v)
		cfg, err := loadConfig(btcDef())
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if bool(cfg.Debug) != want {
			t.Errorf("BTC_DEBUG=%q gave %v", v, cfg.Debug)
		}
	}
	for _, bad := range []string{"maybe", "2", "ye", "tru", "nope"} {
		t.Setenv("BTC_DEBUG", bad)
		_, err := loadConfig(btcDef())
		if err == nil || !strings.Contains(err.Error(), "BTC_DEBUG") {
			t.Errorf("BTC_DEBUG=%q: want an error naming the variable, got %v", bad, err)
		}
	}
}

func TestConfigBadValues(t *testing.T) {
	t.Setenv("BTC_PORT", "http")
	if _, err := loadConfig(btcDef()); err == nil || !strings.Contains(err.Error(), "BTC_PORT") {
		t.Errorf("bad port: %v", err)
	}
}

func TestConfigBadLogFormat(t *testing.T) {
	t.Setenv("BTC_LOG_FORMAT", "xml")
	if _, err := loadConfig(btcDef()); err == nil || !strings.Contains(err.Error(), "BTC_LOG_FORMAT") {
		t.Errorf("bad log format: %v", err)
	}
}

func TestConfigEmptyCredentialsRefused(t *testing.T) {
	for _, k := range []string{"BTC_LOGIN", "BTC_PASSWORD"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, "")
			_, err := loadConfig(btcDef())
			if err == nil || !strings.Contains(err.Error(), "BTC_LOGIN and BTC_PASSWORD must not be empty") {
				t.Errorf("%s set but empty: %v", k, err)
			}
		})
	}
}

func TestConfigPprofLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:6060": true, "localhost:6060": true, "[::1]:6060": true,
		":6060": false, "0.0.0.0:6060": false, "10.0.0.1:6060": false, "pprof.example:1": false, "6060": false} {
		t.Setenv("BTC_PPROF_ADDR", addr)
		_, err := loadConfig(btcDef())
		if ok && err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "BTC_PPROF_ADDR") || !strings.Contains(err.Error(), "loopback")) {
			t.Errorf("%s: want a refusal naming BTC_PPROF_ADDR and loopback, got %v", addr, err)
		}
	}
}

// TestConfigInDockerEmptyIsUnset: Bitcart tests os.getenv("IN_DOCKER"),
// so an empty value binds to loopback like an unset one.
func TestConfigInDockerEmptyIsUnset(t *testing.T) {
	t.Setenv("IN_DOCKER", "")
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "127.0.0.1" {
		t.Errorf("IN_DOCKER='' binds to %s", cfg.Host)
	}
}

// TestConfigElectrumDir: with no BTC_DATA_PATH, ELECTRUMDIR (Electrum's
// user directory, as Bitcart leaves it) holds the store, in Electrum's
// network subfolder.
func TestConfigElectrumDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ELECTRUMDIR", dir)
	for net, want := range map[string]string{"mainnet": dir, "testnet": dir + "/testnet", "regtest": dir + "/regtest"} {
		t.Setenv("BTC_NETWORK", net)
		cfg, err := loadConfig(btcDef())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DataPath != want {
			t.Errorf("%s: data path %s, want %s", net, cfg.DataPath, want)
		}
	}
	t.Setenv("BTC_DATA_PATH", "/explicit")
	if cfg, _ := loadConfig(btcDef()); cfg.DataPath != "/explicit" {
		t.Errorf("BTC_DATA_PATH lost to ELECTRUMDIR: %s", cfg.DataPath)
	}
}

// TestConfigBitcartVariables: every variable Bitcart's BTC daemon reads is
// honoured or refused with a message naming it.
func TestConfigBitcartVariables(t *testing.T) {
	t.Run("FIAT_CURRENCY honoured", func(t *testing.T) {
		cfg, _ := loadConfig(btcDef())
		if cfg.FiatCurrency != "USD" {
			t.Errorf("default fiat currency %q", cfg.FiatCurrency)
		}
		t.Setenv("BTC_FIAT_CURRENCY", "EUR")
		if cfg, _ := loadConfig(btcDef()); cfg.FiatCurrency != "EUR" {
			t.Errorf("BTC_FIAT_CURRENCY=EUR gave %q", cfg.FiatCurrency)
		}
	})
	accepted := map[string]string{"BTC_ONESERVER": "true", "BTC_LIGHTNING_LISTEN": "", "BTC_LIGHTNING_GOSSIP": "f",
		"BTC_LIGHTNING_PUBLIC_CHANNELS": "no", "BTC_LIGHTNING_ALLOW_INCOMING_CHANNELS": "0", "BITCART_OTEL_ENABLED": "false"}
	for k, v := range accepted {
		t.Run(k+" accepted", func(t *testing.T) {
			t.Setenv(k, v)
			if _, err := loadConfig(btcDef()); err != nil {
				t.Errorf("%s=%s: %v", k, v, err)
			}
		})
	}
	refused := map[string]string{"BTC_PROXY_URL": "socks5://127.0.0.1:9050", "BITCART_OTEL_ENABLED": "True", "BTC_POLLING_CAP": "-1",
		"BTC_ONESERVER": "sometimes", "BTC_LIGHTNING_GOSSIP": "maybe", "BTC_LIGHTNING_PUBLIC_CHANNELS": "2",
		"BTC_LIGHTNING_ALLOW_INCOMING_CHANNELS": "yess"}
	for k, v := range refused {
		t.Run(k+" refused", func(t *testing.T) {
			t.Setenv(k, v)
			_, err := loadConfig(btcDef())
			if err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("%s=%s: want an error naming it, got %v", k, v, err)
			}
		})
	}
}

func TestConfigLimits(t *testing.T) {
	env := map[string]string{"BTC_READ_TIMEOUT": "7s", "BTC_WRITE_TIMEOUT": "8s", "BTC_IDLE_TIMEOUT": "9s",
		"BTC_REQUEST_TIMEOUT": "1m", "BTC_MAX_HEADER_BYTES": "4096", "BTC_MAX_CONNS": "10", "BTC_MAX_CONCURRENT": "3",
		"BTC_METRICS_PUBLIC": "yes", "BTC_ALLOWED_HOSTS": "a.example,b.example", "BTC_HOST": "10.1.1.1"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Limits
	if l.ReadTimeout != 7*time.Second || l.WriteTimeout != 8*time.Second || l.IdleTimeout != 9*time.Second ||
		l.RequestTimeout != time.Minute || l.MaxHeaderBytes != 4096 || l.MaxConns != 10 || l.MaxConcurrent != 3 ||
		!bool(l.MetricsPublic) || strings.Join(l.AllowedHosts, ",") != "a.example,b.example,10.1.1.1" {
		t.Errorf("limits %+v", l)
	}
	read, write, idle, hdr := l.HTTPTimeouts()
	if read != 7*time.Second || write != 7*time.Second+time.Minute+8*time.Second || idle != 9*time.Second || hdr != 4096 {
		t.Errorf("http timeouts %v %v %v %v", read, write, idle, hdr)
	}
	t.Setenv("BTC_MAX_CONNS", "many")
	if _, err := loadConfig(btcDef()); err == nil || !strings.Contains(err.Error(), "BTC_MAX_CONNS") {
		t.Errorf("bad BTC_MAX_CONNS: %v", err)
	}
}

func TestConfigLimitDefaults(t *testing.T) {
	cfg, err := loadConfig(btcDef())
	if err != nil {
		t.Fatal(err)
	}
	read, write, idle, hdr := cfg.Limits.HTTPTimeouts()
	if read != 30*time.Second || write != 30*time.Second+5*time.Minute+30*time.Second || idle != 120*time.Second ||
		hdr != 8192 || cfg.MaxConns != 2048 || cfg.MaxConcurrent != 64 || bool(cfg.MetricsPublic) {
		t.Errorf("defaults %+v", cfg.Limits)
	}
	if write <= cfg.SyncTimeout {
		t.Errorf("the write timeout %v is shorter than a wallet call's sync wait %v", write, cfg.SyncTimeout)
	}
}
