package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wallet.Store {
		s, err := Open(filepath.Join(t.TempDir(), "w.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
