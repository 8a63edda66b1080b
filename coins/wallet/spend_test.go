package wallet_test

import (
	"context"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
)

// spendEnv is an engine on a fake chain with one wallet funded by coins.
type spendEnv struct {
	*env
	w     *wallet.Wallet
	prevs map[wire.OutPoint]*wire.TxOut
}

func newSpendEnv(t *testing.T, keyMaterial string) *spendEnv {
	t.Helper()
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	w, err := ev.eng.Open(context.Background(), keyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	return &spendEnv{env: ev, w: w, prevs: map[wire.OutPoint]*wire.TxOut{}}
}

// fund pays value to address in a block and waits until it is spendable.
func (s *spendEnv) fund(t *testing.T, address string, salt byte, values ...int64) {
	t.Helper()
	script, err := s.net.PkScript(address)
	if err != nil {
		t.Fatal(err)
	}
	var txs []*wire.MsgTx
	for i, v := range values {
		tx := payTx(script, v, salt+byte(i))
		txs = append(txs, tx)
		s.prevs[wire.OutPoint{Hash: tx.TxHash(), Index: 0}] = tx.TxOut[0]
	}
	before, _ := s.w.Balance(context.Background())
	var sum int64
	for _, v := range values {
		sum += v
	}
	s.chain.mine(txs...)
	waitFor(t, func() bool {
		b, _ := s.w.Balance(context.Background())
		return b.Confirmed == before.Confirmed+sum
	})
}

// verify runs every input of tx through the script engine.
func (s *spendEnv) verify(t *testing.T, tx *wire.MsgTx) {
	t.Helper()
	fetcher := txscript.NewMultiPrevOutFetcher(s.prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		prev := s.prevs[in.PreviousOutPoint]
		if prev == nil {
			t.Fatalf("input %d spends unknown %v", i, in.PreviousOutPoint)
		}
		vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
	}
}

func (s *spendEnv) fee(tx *wire.MsgTx) int64 {
	var fee int64
	for _, in := range tx.TxIn {
		fee += s.prevs[in.PreviousOutPoint].Value
	}
	for _, o := range tx.TxOut {
		fee -= o.Value
	}
	return fee
}

func i64(v int64) *int64 { return &v }

func TestPayFeeRateChangeAndSignature(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 30_000_000, 40_000_000)
	s.fund(t, vw.Receiving[1], 20, 100_000_000)
	dest := regtestWallet(t, "standard-account-xpub").Receiving[0]
	b, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 50_000_000, Set: true}}},
		FeeRate: i64(2000), RBF: true})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Complete || b.ChangeIndex < 0 {
		t.Fatalf("complete %v change %d", b.Complete, b.ChangeIndex)
	}
	tx := b.Tx
	s.verify(t, tx)
	change, _ := s.net.PkScript(vw.Change[0])
	destScript, _ := s.net.PkScript(dest)
	if string(tx.TxOut[b.ChangeIndex].PkScript) != string(change) {
		t.Fatalf("change does not go to Electrum's first change address")
	}
	paid := false
	for _, o := range tx.TxOut {
		paid = paid || string(o.PkScript) == string(destScript) && o.Value == 50_000_000
	}
	if !paid || len(tx.TxOut) != 2 {
		t.Fatalf("outputs: %v", tx.TxOut)
	}
	// The 1 BTC coin alone pays; fee ≈ 2 sat/vB of the real size.
	if len(tx.TxIn) != 1 || s.fee(tx) != b.Fee {
		t.Fatalf("inputs %d fee %d/%d", len(tx.TxIn), s.fee(tx), b.Fee)
	}
	if vs := int64(wallet.VSize(tx)); b.Fee < 2*vs || b.Fee > 2*vs+10 {
		t.Fatalf("fee %d for vsize %d", b.Fee, vs)
	}
	if tx.TxIn[0].Sequence != 0xfffffffd || tx.LockTime != uint32(s.eng.Height()) || tx.Version != 2 {
		t.Fatalf("sequence %x locktime %d version %d", tx.TxIn[0].Sequence, tx.LockTime, tx.Version)
	}
	hexTx, _ := b.Serialize()
	if _, err := hexDecodeTx(hexTx); err != nil {
		t.Fatal(err)
	}
	// rbf=false: final sequence, still locktime-enabled.
	b, err = s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000)})
	if err != nil || b.Tx.TxIn[0].Sequence != 0xfffffffe {
		t.Fatalf("rbf=false: %v %x", err, b.Tx.TxIn[0].Sequence)
	}
}

func hexDecodeTx(s string) (*wire.MsgTx, error) {
	tx, _, err := wallet.DecodeTransaction(s)
	return tx, err
}

func TestPayFeeErrorsAndMax(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 30_000_000, 40_000_000)
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	pay := func(sats int64, max bool) []wallet.Payment {
		return []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: sats, Max: max, Set: true}}}
	}
	if _, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: pay(1000_000, false), Fee: i64(1000), FeeRate: i64(1000)}); !errors.Is(err, wallet.ErrFeeAndFeerate) {
		t.Fatalf("fee and feerate: %v", err)
	}
	if _, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: pay(80_000_000, false), FeeRate: i64(1000)}); !errors.Is(err, wallet.ErrNotEnoughFunds) {
		t.Fatalf("insufficient: %v", err)
	}
	if _, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: pay(70_000_000, false), FeeRate: i64(1000)}); !errors.Is(err, wallet.ErrNotEnoughFunds) {
		t.Fatalf("exactly the balance leaves no fee: %v", err)
	}
	bad := []wallet.Payment{{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Amount: wallet.Amount{Sats: 1000, Set: true}}}
	if _, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: bad, FeeRate: i64(1000)}); !errors.Is(err, params.ErrInvalidAddress) {
		t.Fatalf("mainnet address on regtest: %v", err)
	}
	if _, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: pay(100, false), FeeRate: i64(1000)}); !errors.Is(err, wallet.ErrDustOutput) {
		t.Fatalf("dust: %v", err)
	}
	// An absolute fee is paid exactly.
	b, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: pay(35_000_000, false), Fee: i64(10_000)})
	if err != nil {
		t.Fatal(err)
	}
	s.verify(t, b.Tx)
	if b.Fee != 10_000 || s.fee(b.Tx) != 10_000 || len(b.Tx.TxIn) != 1 {
		t.Fatalf("fixed fee: %d %d inputs %d", b.Fee, s.fee(b.Tx), len(b.Tx.TxIn))
	}
	// "!" sends everything minus the fee, without change.
	b, err = s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: pay(0, true), FeeRate: i64(3000)})
	if err != nil {
		t.Fatal(err)
	}
	s.verify(t, b.Tx)
	if len(b.Tx.TxIn) != 2 || len(b.Tx.TxOut) != 1 || b.ChangeIndex != -1 || b.Tx.TxOut[0].Value != 70_000_000-b.Fee {
		t.Fatalf("max: %d in %d out fee %d", len(b.Tx.TxIn), len(b.Tx.TxOut), b.Fee)
	}
	if vs := int64(wallet.VSize(b.Tx)); b.Fee < 3*vs || b.Fee > 3*vs+10 {
		t.Fatalf("max fee %d for vsize %d", b.Fee, vs)
	}
	// Max next to a fixed output.
	two := append(pay(0, true), wallet.Payment{Address: vw.Receiving[4], Amount: wallet.Amount{Sats: 20_000_000, Set: true}})
	b, err = s.w.CreateTransaction(ctx, wallet.SpendRequest{Outputs: two, Fee: i64(5000)})
	if err != nil || len(b.Tx.TxOut) != 2 || b.Fee != 5000 {
		t.Fatalf("max + fixed: %v", err)
	}
}

func TestImmatureCoinbaseNeverSelected(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 20_000_000)
	script, _ := s.net.PkScript(vw.Receiving[1])
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2, 3}, nil))
	cb.AddTxOut(wire.NewTxOut(50_000_000, script))
	s.prevs[wire.OutPoint{Hash: cb.TxHash()}] = cb.TxOut[0]
	s.chain.mine(cb)
	waitFor(t, func() bool { b, _ := s.w.Balance(ctx); return b.Unmatured == 50_000_000 })
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	pay := func(sats int64, max bool) wallet.SpendRequest {
		return wallet.SpendRequest{Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: sats, Max: max, Set: true}}}, FeeRate: i64(1000)}
	}
	if _, err := s.w.CreateTransaction(ctx, pay(30_000_000, false)); !errors.Is(err, wallet.ErrNotEnoughFunds) {
		t.Fatalf("immature coinbase selected: %v", err)
	}
	b, err := s.w.CreateTransaction(ctx, pay(0, true))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range b.Tx.TxIn {
		if in.PreviousOutPoint.Hash == cb.TxHash() {
			t.Fatal("max spends the immature coinbase")
		}
	}
	// Mature once the next block is the 100th on top of it.
	for i := 0; i < 98; i++ {
		s.chain.mine()
	}
	waitFor(t, func() bool { return s.eng.Height() == 2+1+98 })
	if _, err := s.w.CreateTransaction(ctx, pay(30_000_000, false)); err == nil {
		t.Fatal("coinbase spendable one block early")
	}
	s.chain.mine()
	waitFor(t, func() bool { b, _ := s.w.Balance(ctx); return b.Unmatured == 0 })
	b, err = s.w.CreateTransaction(ctx, pay(30_000_000, false))
	if err != nil {
		t.Fatal(err)
	}
	s.verify(t, b.Tx)
}

func TestWatchOnlyPSBTSignedBySeed(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.MPK)
	s.fund(t, vw.Receiving[3], 10, 10_000_000, 5_000_000)
	dest := regtestWallet(t, "standard-account-xpub").Receiving[0]
	b, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 12_000_000, Set: true}}}, FeeRate: i64(1000), RBF: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Complete || b.Packet == nil {
		t.Fatal("watch-only built a signed tx")
	}
	p := b.Packet
	for i, in := range p.Inputs {
		if in.WitnessUtxo == nil || in.NonWitnessUtxo == nil || len(in.Bip32Derivation) != 1 ||
			len(in.Bip32Derivation[0].Bip32Path) != 2 || in.Bip32Derivation[0].Bip32Path[1] != 3 {
			t.Fatalf("input %d: %+v", i, in)
		}
	}
	if b.ChangeIndex < 0 || len(p.Outputs[b.ChangeIndex].Bip32Derivation) != 1 {
		t.Fatal("change output without derivation")
	}
	b64, err := b.Serialize()
	if err != nil || !strings.HasPrefix(b64, "cHNidP8") {
		t.Fatalf("psbt %q %v", b64, err)
	}
	// The watch-only wallet cannot sign: the PSBT comes back as it was.
	if same, err := s.w.SignTransaction(ctx, b64); err != nil || same != b64 {
		t.Fatalf("watch-only sign: %v", err)
	}
	seed, err := s.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := seed.SignTransaction(ctx, b64)
	if err != nil {
		t.Fatal(err)
	}
	tx, _, err := wallet.DecodeTransaction(signed)
	if err != nil || tx == nil {
		t.Fatalf("signed result is not a raw tx: %v", err)
	}
	s.verify(t, tx)
	if tx.TxHash() != b.Tx.TxHash() {
		t.Fatal("signing changed the txid")
	}
	// Unsigned raw hex signs too (prevouts from the stored transactions).
	raw, _ := b.Packet.UnsignedTx.Copy(), 0
	var sb strings.Builder
	_ = raw.Serialize(hexWriter{&sb})
	signed2, err := seed.SignTransaction(ctx, sb.String())
	if err != nil {
		t.Fatal(err)
	}
	tx2, _, _ := wallet.DecodeTransaction(signed2)
	s.verify(t, tx2)
	// unsigned=true on the seed wallet gives a PSBT as well.
	b, err = seed.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000), Unsigned: true})
	if err != nil || b.Complete {
		t.Fatalf("unsigned=true: %v %v", err, b.Complete)
	}
}

type hexWriter struct{ b *strings.Builder }

func (h hexWriter) Write(p []byte) (int, error) {
	const digits = "0123456789abcdef"
	for _, c := range p {
		h.b.WriteByte(digits[c>>4])
		h.b.WriteByte(digits[c&15])
	}
	return len(p), nil
}

func TestWIFWalletSigns(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	k1, _ := btcec.NewPrivateKey()
	k2, _ := btcec.NewPrivateKey()
	k3, _ := btcec.NewPrivateKey()
	w1, _ := btcutil.NewWIF(k1, net.Chain, true)
	w2, _ := btcutil.NewWIF(k2, net.Chain, true)
	w3, _ := btcutil.NewWIF(k3, net.Chain, false)
	material := "p2wpkh-p2sh:" + w1.String() + " p2wpkh:" + w2.String() + " " + w3.String()
	s := newSpendEnv(t, material)
	a1, _, _ := net.PubKeyAddress(params.P2WPKHP2SH, k1.PubKey().SerializeCompressed())
	a2, _, _ := net.PubKeyAddress(params.P2WPKH, k2.PubKey().SerializeCompressed())
	a3, _, _ := net.PubKeyAddress(params.P2PKH, k3.PubKey().SerializeUncompressed())
	s.fund(t, a1, 10, 1_000_000)
	s.fund(t, a2, 20, 1_000_000)
	s.fund(t, a3, 30, 1_000_000)
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	b, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Max: true, Set: true}}}, FeeRate: i64(1000)})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Tx.TxIn) != 3 || !b.Complete {
		t.Fatalf("inputs %d complete %v", len(b.Tx.TxIn), b.Complete)
	}
	s.verify(t, b.Tx)
	// Change of an imported wallet goes back to the first input's address.
	b, err = s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 100_000, Set: true}}}, FeeRate: i64(1000)})
	if err != nil {
		t.Fatal(err)
	}
	s.verify(t, b.Tx)
	prev := s.prevs[b.Tx.TxIn[0].PreviousOutPoint]
	if b.ChangeIndex < 0 || string(b.Tx.TxOut[b.ChangeIndex].PkScript) != string(prev.PkScript) {
		t.Fatal("imported wallet change not to its input's address")
	}
	sig, err := s.w.SignMessage(ctx, a3, "hello")
	if err != nil || !wallet.VerifyMessage(net, a3, sig, "hello") {
		t.Fatalf("uncompressed p2pkh message: %v", err)
	}
	sig, err = s.w.SignMessage(ctx, a1, "hello")
	if err != nil || !wallet.VerifyMessage(net, a1, sig, "hello") || wallet.VerifyMessage(net, a2, sig, "hello") {
		t.Fatalf("p2wpkh-p2sh message: %v", err)
	}
}

func TestMessageSigning(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	sig, err := s.w.SignMessage(ctx, vw.Receiving[2], "walletd ✓")
	if err != nil {
		t.Fatal(err)
	}
	if !wallet.VerifyMessage(s.net, vw.Receiving[2], sig, "walletd ✓") {
		t.Fatal("own signature does not verify")
	}
	if wallet.VerifyMessage(s.net, vw.Receiving[2], sig, "walletd") || wallet.VerifyMessage(s.net, vw.Receiving[1], sig, "walletd ✓") ||
		wallet.VerifyMessage(s.net, vw.Receiving[2], "bm90IGEgc2ln", "walletd ✓") {
		t.Fatal("verifies what it should not")
	}
	if _, err := s.w.SignMessage(ctx, regtestWallet(t, "p2wpkh-account-xpub").Receiving[0], "x"); err == nil {
		t.Fatal("signed for a foreign address")
	}
	// The watch-only handle of the same wallet, opened while the seed is
	// loaded: the engine itself refuses to sign with it.
	watch, err := s.eng.Open(ctx, vw.MPK)
	if err != nil {
		t.Fatal(err)
	}
	if watch.CanSign() {
		t.Fatal("a call made with the xpub may sign")
	}
	if _, err := watch.SignMessage(ctx, vw.Receiving[2], "x"); !errors.Is(err, wallet.ErrWatchOnly) {
		t.Fatalf("SignMessage with the xpub while the seed is loaded: %v, want ErrWatchOnly", err)
	}
}

// TestWatchOnlyCallNeverSigns: with the seed loaded by another call, a
// call made with the xpub builds an unsigned PSBT, and signtransaction and
// bumpfee with it sign nothing, whatever the daemon asks.
func TestWatchOnlyCallNeverSigns(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial) // loads the seed
	s.fund(t, vw.Receiving[0], 10, 50_000_000)
	watch, err := s.eng.Open(ctx, vw.MPK)
	if err != nil {
		t.Fatal(err)
	}
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	b, err := watch.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000), RBF: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Complete || b.Packet == nil {
		t.Fatal("a transaction built with the xpub was signed")
	}
	psbt, _ := b.Serialize()
	out, err := watch.SignTransaction(ctx, psbt)
	if err != nil || out != psbt {
		t.Fatalf("signtransaction with the xpub changed the PSBT (%v)", err)
	}
	signed, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000), RBF: true})
	if err != nil || !signed.Complete {
		t.Fatalf("the seed call: %v", err)
	}
	if err := s.eng.AddTransaction(ctx, signed.Tx); err != nil {
		t.Fatal(err)
	}
	bumped, err := watch.BumpFee(ctx, signed.Tx, 5000, wallet.BumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bumped.Complete {
		t.Fatal("bumpfee with the xpub signed")
	}
}

// TestCloseWalletRacingPayto: close_wallet and idle eviction while payto
// calls of the same wallet run: no race, no panic, and a call that carried
// the seed signs whatever happens meanwhile.
func TestCloseWalletRacingPayto(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 50_000_000)
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				w, err := s.eng.Open(ctx, vw.KeyMaterial)
				if err != nil {
					errs <- err
					return
				}
				time.Sleep(time.Millisecond) // let close_wallet run in between
				if !w.CanSign() {
					errs <- errors.New("a seed call cannot sign")
					return
				}
				b, err := w.CreateTransaction(ctx, wallet.SpendRequest{
					Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000)})
				if err != nil {
					errs <- err
					return
				}
				if !b.Complete {
					errs <- errors.New("a seed call got an unsigned transaction")
					return
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		s.eng.CloseWallet(vw.KeyMaterial)
		_ = s.eng.Maintain(ctx)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAddRemoveLocalAndBump(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 50_000_000)
	s.fund(t, vw.Receiving[1], 20, 30_000_000)
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	b, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 40_000_000, Set: true}}}, FeeRate: i64(1000), RBF: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.eng.AddTransaction(ctx, b.Tx); err != nil {
		t.Fatal(err)
	}
	bal, _ := s.w.Balance(ctx)
	if bal.Confirmed != 80_000_000 || bal.Unconfirmed != -40_000_000-b.Fee {
		t.Fatalf("balance after add: %+v fee %d", bal, b.Fee)
	}
	if fee, err := s.w.TxFee(ctx, b.Tx.TxHash()); err != nil || fee != b.Fee {
		t.Fatalf("TxFee %d %v want %d", fee, err, b.Fee)
	}
	// The next payment does not reuse the spent coin, and its change goes to
	// the next change address.
	b2, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000)})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range b2.Tx.TxIn {
		if in.PreviousOutPoint == b.Tx.TxIn[0].PreviousOutPoint {
			t.Fatal("coin spent in the mempool selected again")
		}
	}
	change1, _ := s.net.PkScript(vw.Change[1])
	if string(b2.Tx.TxOut[b2.ChangeIndex].PkScript) != string(change1) {
		t.Fatal("second payment's change not on the next change address")
	}
	// Bump: same inputs, higher fee, less change.
	bumped, err := s.w.BumpFee(ctx, b.Tx, 5000, wallet.BumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.verify(t, bumped.Tx)
	if bumped.Fee <= b.Fee || bumped.Fee < 5*int64(wallet.VSize(bumped.Tx)) || len(bumped.Tx.TxIn) != len(b.Tx.TxIn) ||
		bumped.Tx.TxIn[0].PreviousOutPoint != b.Tx.TxIn[0].PreviousOutPoint || bumped.Tx.TxIn[0].Sequence != 0xfffffffd {
		t.Fatalf("bumped fee %d (old %d)", bumped.Fee, b.Fee)
	}
	if _, err := s.w.BumpFee(ctx, b.Tx, 500, wallet.BumpOptions{}); !errors.Is(err, wallet.ErrCannotBump) {
		t.Fatalf("lower rate: %v", err)
	}
	// A bump needing more than the change adds a coin.
	big, err := s.w.BumpFee(ctx, b.Tx, 100_000_000, wallet.BumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(big.Tx.TxIn) != 2 {
		t.Fatalf("big bump inputs %d", len(big.Tx.TxIn))
	}
	// removelocaltx restores the balance.
	if err := s.eng.RemoveLocalTransaction(ctx, b.Tx.TxHash()); err != nil {
		t.Fatal(err)
	}
	bal, _ = s.w.Balance(ctx)
	if bal.Confirmed != 80_000_000 || bal.Unconfirmed != 0 {
		t.Fatalf("balance after remove: %+v", bal)
	}
	if _, err := s.w.TxStatus(ctx, b.Tx.TxHash()); !errors.Is(err, wallet.ErrTxNotFound) {
		t.Fatalf("removed tx still known: %v", err)
	}
	if err := s.eng.RemoveLocalTransaction(ctx, chainhash.Hash{1}); !errors.Is(err, wallet.ErrTxNotFound) {
		t.Fatalf("remove unknown: %v", err)
	}
	// A mined tx is not local.
	if err := s.eng.RemoveLocalTransaction(ctx, s.firstFunding(t)); !errors.Is(err, wallet.ErrNotLocal) {
		t.Fatalf("remove mined: %v", err)
	}
	// A final (rbf=false) tx cannot be bumped.
	b3, _ := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000)})
	if _, err := s.w.BumpFee(ctx, b3.Tx, 5000, wallet.BumpOptions{}); !errors.Is(err, wallet.ErrCannotBump) {
		t.Fatalf("bump final: %v", err)
	}
}

func (s *spendEnv) firstFunding(t *testing.T) chainhash.Hash {
	t.Helper()
	h, err := s.w.History(context.Background())
	if err != nil || len(h) == 0 {
		t.Fatalf("history: %v", err)
	}
	return h[0].TxID
}

func TestDecodeAndVSize(t *testing.T) {
	if _, _, err := wallet.DecodeTransaction("zz"); !errors.Is(err, wallet.ErrInvalidTx) {
		t.Fatal(err)
	}
	if _, _, err := wallet.DecodeTransaction("00"); !errors.Is(err, wallet.ErrInvalidTx) {
		t.Fatal(err)
	}
	// A signed 1-input, 2-output P2WPKH transaction is 141 vbytes (base
	// 113 bytes, witness 107 or 108), whatever its signature's length.
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 50_000_000)
	b, err := s.w.CreateTransaction(context.Background(), wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: regtestWallet(t, "p2wpkh-account-xpub").Receiving[0],
			Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000)})
	if err != nil || !b.Complete || len(b.Tx.TxIn) != 1 || len(b.Tx.TxOut) != 2 {
		t.Fatalf("built %+v %v", b, err)
	}
	raw, _ := b.Serialize()
	tx, p, err := wallet.DecodeTransaction(raw)
	if err != nil || p != nil || tx.TxHash() != b.Tx.TxHash() {
		t.Fatalf("decode of the built tx: %v", err)
	}
	if vs := wallet.VSize(tx); vs != 141 {
		t.Fatalf("vsize %d, want 141", vs)
	}
	if b.Fee != 141 {
		t.Fatalf("fee %d at 1 sat/vB for 141 vbytes", b.Fee)
	}
}

// TestMessageSigningCoreVector checks SignMessage against Bitcoin Core's
// own vector (rpc_signmessage.py), which Electrum's scheme shares.
func TestMessageSigningCoreVector(t *testing.T) {
	const (
		wif     = "cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N"
		addr    = "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB"
		message = "This is just a test message"
		want    = "INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzRpG/U+S0="
	)
	s := newSpendEnv(t, wif)
	sig, err := s.w.SignMessage(context.Background(), addr, message)
	if err != nil || sig != want {
		t.Fatalf("signmessage = %q, %v; want Core's %q", sig, err, want)
	}
	if !wallet.VerifyMessage(s.net, addr, want, message) {
		t.Fatal("Core's signature does not verify")
	}
}

// TestBumpFeeNeverSignsARejectedReplacement: when the fee rates BumpFee
// tries never pay BIP125 rule 4 (the old fee plus the relay fee of the
// replacement), it fails instead of signing a replacement the node would
// reject.
func TestBumpFeeNeverSignsARejectedReplacement(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 50_000_000)
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	b, err := s.w.CreateTransaction(ctx, wallet.SpendRequest{
		Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}, FeeRate: i64(1000), RBF: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.eng.AddTransaction(ctx, b.Tx); err != nil {
		t.Fatal(err)
	}
	// One attempt at 1001 sat/kvB: higher than the old rate, far from
	// the old fee plus 1 sat/vB.
	restore := wallet.SetBumpAttempts(1)
	_, err = s.w.BumpFee(ctx, b.Tx, 1001, wallet.BumpOptions{})
	restore()
	if !errors.Is(err, wallet.ErrCannotBump) {
		t.Fatalf("bump that cannot meet rule 4: %v, want ErrCannotBump", err)
	}
	bumped, err := s.w.BumpFee(ctx, b.Tx, 1001, wallet.BumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vs := wallet.VSize(bumped.Tx)
	if !bumped.Complete || bumped.Fee < b.Fee+int64(vs) {
		t.Fatalf("bump fee %d for %d vB, old fee %d: rule 4 not met", bumped.Fee, vs, b.Fee)
	}
}

// TestSendArithmeticRanges: fee rates, fees and output totals beyond what
// int64 arithmetic holds are refused with ErrInvalidAmount, never wrapped.
func TestSendArithmeticRanges(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.KeyMaterial)
	s.fund(t, vw.Receiving[0], 10, 50_000_000)
	dest := regtestWallet(t, "p2wpkh-account-xpub").Receiving[0]
	out := []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: 1_000_000, Set: true}}}
	for _, req := range []wallet.SpendRequest{
		{Outputs: out, FeeRate: i64(wallet.MaxFeeRate + 1)},
		{Outputs: out, FeeRate: i64(-1)},
		{Outputs: out, Fee: i64(wallet.MaxAmount + 1)},
		{Outputs: append(out, wallet.Payment{Address: dest, Amount: wallet.Amount{Sats: wallet.MaxAmount, Set: true}}), FeeRate: i64(1000)},
	} {
		if _, err := s.w.CreateTransaction(ctx, req); !errors.Is(err, wallet.ErrInvalidAmount) {
			t.Errorf("%+v: %v, want ErrInvalidAmount", req, err)
		}
	}
	if _, err := wallet.FeeForVSize(1000, wallet.MaxTxVSize+1); !errors.Is(err, wallet.ErrInvalidAmount) {
		t.Errorf("fee for an impossible size: %v", err)
	}
	if fee, err := wallet.FeeForVSize(wallet.MaxFeeRate, wallet.MaxTxVSize); err != nil || fee != wallet.MaxFeeRate*wallet.MaxTxVSize/1000 {
		t.Errorf("largest fee: %d %v", fee, err)
	}
	if _, err := s.w.BumpFee(ctx, wire.NewMsgTx(2), wallet.MaxFeeRate+1, wallet.BumpOptions{}); !errors.Is(err, wallet.ErrInvalidAmount) {
		t.Errorf("bumpfee at an absurd rate: %v", err)
	}
}

// TestSignTransactionInputsBounded (security review 15): a transaction of
// more inputs than MaxSignInputs is refused before any previous output is
// looked up; one at the bound is signed as far as the wallet can.
func TestSignTransactionInputsBounded(t *testing.T) {
	ctx := context.Background()
	vw := regtestWallet(t, "electrum-segwit-seed")
	s := newSpendEnv(t, vw.MPK)
	seed, err := s.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	txOf := func(n int) string {
		tx := wire.NewMsgTx(2)
		for i := range n {
			tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{1}, uint32(i)), nil, nil))
		}
		tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
		var b strings.Builder
		if err := tx.Serialize(hex.NewEncoder(&b)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if _, err := seed.SignTransaction(ctx, txOf(wallet.MaxSignInputs+1)); !errors.Is(err, wallet.ErrInvalidTx) ||
		!strings.Contains(err.Error(), "at most 2500") {
		t.Fatalf("%d inputs: %v", wallet.MaxSignInputs+1, err)
	}
	if _, err := seed.SignTransaction(ctx, txOf(wallet.MaxSignInputs)); err != nil {
		t.Fatalf("%d inputs: %v", wallet.MaxSignInputs, err)
	}
}
