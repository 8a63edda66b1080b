package main

import (
	"strings"
	"testing"
)

// TestConfigElectrumSessionScripts: <COIN>_ELECTRUM_SESSION_SCRIPTS reaches
// the config (0, unset, means the backend's default); a negative value is
// refused, naming the variable.
func TestConfigElectrumSessionScripts(t *testing.T) {
	t.Setenv("BTC_ELECTRUM_SESSION_SCRIPTS", "500")
	cfg, err := loadConfig(btcDef())
	if err != nil || cfg.ElectrumSessionScripts != 500 {
		t.Fatalf("ElectrumSessionScripts = %d, %v; want 500", cfg.ElectrumSessionScripts, err)
	}
	t.Setenv("BTC_ELECTRUM_SESSION_SCRIPTS", "-1")
	if _, err := loadConfig(btcDef()); err == nil || !strings.Contains(err.Error(), "BTC_ELECTRUM_SESSION_SCRIPTS") {
		t.Fatalf("-1: %v, want an error naming the variable", err)
	}
}
