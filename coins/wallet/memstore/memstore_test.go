package memstore

import (
	"testing"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) wallet.Store { return New() })
}
