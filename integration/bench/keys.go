package main

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// vpubVersion is SLIP-132's version of a testnet/regtest p2wpkh account
// public key (vpub): Bitcart's usual segwit wallet.
var vpubVersion = []byte{0x04, 0x5f, 0x1c, 0xf6}

// benchKey returns the i-th wallet of a run: a regtest account public key
// (vpub, p2wpkh) from a master key made with hdkeychain from a seed derived
// from the run's salt and i. Every daemon the tool starts has a fresh store,
// so each key is never seen by it before its first call.
func benchKey(salt string, i int) (string, error) {
	seed := sha256.Sum256([]byte(fmt.Sprintf("walletd-bench/%s/%d", salt, i)))
	m, err := hdkeychain.NewMaster(seed[:], &chaincfg.RegressionNetParams)
	if err != nil {
		return "", err
	}
	pub, err := m.Neuter()
	if err != nil {
		return "", err
	}
	v, err := pub.CloneWithVersion(vpubVersion)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// benchKeys makes keys from index from (inclusive) to to (exclusive), in
// parallel.
func benchKeys(salt string, from, to int) ([]string, error) {
	out := make([]string, to-from)
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from + w; i < to; i += len(errs) {
				k, err := benchKey(salt, i)
				if err != nil {
					errs[w] = err
					return
				}
				out[i-from] = k
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
