package main

import (
	"strings"
	"testing"
)

// TestBtcdFilterConfig: <COIN>_BTCD_FILTER defaults to local, takes node in
// any case and spacing, and refuses anything else with a message naming
// the variable and the two values.
func TestBtcdFilterConfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	def := coins()["btc"]
	cfg, err := loadConfig(def)
	if err != nil || cfg.BtcdFilter != "local" {
		t.Fatalf("default: %q, %v", cfg.BtcdFilter, err)
	}
	t.Setenv("BTC_BTCD_FILTER", " Node ")
	if cfg, err = loadConfig(def); err != nil || cfg.BtcdFilter != "node" {
		t.Fatalf("node: %q, %v", cfg.BtcdFilter, err)
	}
	t.Setenv("BTC_BTCD_FILTER", "bloom")
	_, err = loadConfig(def)
	if err == nil || !strings.Contains(err.Error(), "BTC_BTCD_FILTER") || !strings.Contains(err.Error(), "local") || !strings.Contains(err.Error(), "node") {
		t.Fatalf("bloom: %v", err)
	}
}
