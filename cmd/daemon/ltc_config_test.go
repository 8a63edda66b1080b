package main

import (
	"strings"
	"testing"
	"time"
)

func TestLTCConfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("ZMQ", "tcp://evil:1") // never read unprefixed
	t.Setenv("BIRTHDAY", "5")
	def, ok := coins()["ltc"]
	if !ok {
		t.Fatal("no ltc daemon")
	}
	cfg, err := loadConfig(def)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 5001 || !strings.HasSuffix(cfg.DataPath, "/walletd/ltc/mainnet") || cfg.Birthday != -1 ||
		cfg.BlockFilters != "auto" || cfg.PollInterval != 0 || len(cfg.ZMQ) != 0 || cfg.ServerCookie != "" || cfg.ServerMaxRequests != 8 {
		t.Errorf("LTC defaults: %+v", cfg)
	}
	for k, v := range map[string]string{"LTC_SERVER": "http://127.0.0.1:19443", "LTC_SERVER_COOKIE": "/node/regtest/.cookie", "LTC_SERVER_MAX_REQUESTS": "3",
		"LTC_POLL_INTERVAL": "100ms", "LTC_ZMQ": "tcp://127.0.0.1:28332,tcp://127.0.0.1:28333", "LTC_BIRTHDAY": "0",
		"LTC_BLOCK_FILTERS": "blocks", "LTC_NETWORK": "regtest"} {
		t.Setenv(k, v)
	}
	cfg, err = loadConfig(def)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerCookie != "/node/regtest/.cookie" || cfg.ServerMaxRequests != 3 || cfg.PollInterval != 100*time.Millisecond || cfg.Birthday != 0 ||
		cfg.BlockFilters != "blocks" || strings.Join(cfg.ZMQ, " ") != "tcp://127.0.0.1:28332 tcp://127.0.0.1:28333" {
		t.Errorf("LTC core variables: %+v", cfg.CoreBackend)
	}
}
