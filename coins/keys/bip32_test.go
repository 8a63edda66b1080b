package keys

import (
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// TestBIP32MatchesHdkeychain cross-checks the hand-rolled BIP32 (affine
// points, Electrum's skip of invalid children) against btcd's hdkeychain
// for random seeds and random paths: the same master key, the same private
// and public children at every step (serialized, so depth, parent
// fingerprint, child number, chain code and key all agree), public
// derivation from the neutered key included, and each serialization parsed
// back by the other side.
func TestBIP32MatchesHdkeychain(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x5eed, 0xb1b32))
	net := &chaincfg.MainNetParams
	var xprv, xpub [4]byte
	copy(xprv[:], net.HDPrivateKeyID[:])
	copy(xpub[:], net.HDPublicKeyID[:])
	mainnet := mustNet(t, "mainnet")
	const seeds, steps = 64, 6
	for s := 0; s < seeds; s++ {
		seed := make([]byte, 16+rng.IntN(49))
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		ours, err := masterFromSeed(seed)
		if err != nil {
			t.Fatalf("seed %x: %v", seed, err)
		}
		theirs, err := hdkeychain.NewMaster(seed, net)
		if err != nil {
			t.Fatalf("seed %x: hdkeychain: %v", seed, err)
		}
		for step := 0; ; step++ {
			if got, want := base58Check(ours.serialize(xprv, true)), theirs.String(); got != want {
				t.Fatalf("seed %x step %d: private %s, hdkeychain %s", seed, step, got, want)
			}
			theirsPub, err := theirs.Neuter()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := base58Check(ours.public().serialize(xpub, false)), theirsPub.String(); got != want {
				t.Fatalf("seed %x step %d: public %s, hdkeychain %s", seed, step, got, want)
			}
			// Each side parses the other's serialization.
			if k, _, private, ok := parseExtKey(theirs.String(), mainnet); !ok || !private || base58Check(k.serialize(xprv, true)) != theirs.String() {
				t.Fatalf("seed %x step %d: hdkeychain's xprv does not round-trip", seed, step)
			}
			if _, err := hdkeychain.NewKeyFromString(base58Check(ours.public().serialize(xpub, false))); err != nil {
				t.Fatalf("hdkeychain cannot parse our xpub: %v", err)
			}
			if step == steps {
				break
			}
			i := rng.Uint32N(1 << 20)
			if rng.IntN(2) == 0 {
				i += hardened
			}
			if i < hardened {
				// Public derivation of a non-hardened child agrees with the
				// private one, on both sides.
				pubChild, err := ours.public().child(i)
				if err != nil {
					t.Fatal(err)
				}
				theirsPubChild, err := theirsPub.Derive(i)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := base58Check(pubChild.serialize(xpub, false)), theirsPubChild.String(); got != want {
					t.Fatalf("seed %x step %d: public child %d %s, hdkeychain %s", seed, step, i, got, want)
				}
			}
			if ours, err = ours.child(i); err != nil {
				t.Fatalf("seed %x step %d: child %d: %v", seed, step, i, err)
			}
			if theirs, err = theirs.Derive(i); err != nil {
				t.Fatalf("seed %x step %d: hdkeychain child %d: %v", seed, step, i, err)
			}
		}
	}
}
