package main

import (
	"strings"
	"testing"
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
