package integration

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/vectors"
)

// ecRequest is Bitcart's BCH request reply (Electron Cash's shape).
type ecRequest struct {
	Time          int64    `json:"time"`
	Amount        *int64   `json:"amount"`
	Exp           *int64   `json:"exp"`
	Address       string   `json:"address"`
	Memo          string   `json:"memo"`
	ID            string   `json:"id"`
	URI           string   `json:"URI"`
	Status        string   `json:"status"`
	TxHashes      []string `json:"tx_hashes"`
	Confirmations *int64   `json:"confirmations"`
	AmountBCH     string   `json:"amount (BCH)"`
	SentAmount    string   `json:"sent_amount"`
}

func ecVector(t *testing.T, label string) vectors.ECWallet {
	t.Helper()
	for _, w := range vectors.LoadElectronCash(t).Networks["regtest"].Wallets {
		if w.Label == label {
			return w
		}
	}
	t.Fatalf("no Electron Cash wallet %s", label)
	return vectors.ECWallet{}
}

func getECRequest(t *testing.T, d *daemon.Proc, key, addr string) ecRequest {
	t.Helper()
	var r ecRequest
	d.Must(&r, key, "getrequest", addr)
	return r
}

// bare strips the cashaddr prefix, as Electron Cash prints addresses.
func bare(addr string) string { return addr[strings.Index(addr, ":")+1:] }

// TestBCHBchd runs `walletd bch` on bchd (regtest, websocket backend), all
// on one node: a wallet from an Electrum 01 seed gives Electron Cash's
// addresses; a request paid from outside yields new_payment naming the
// bare cashaddr, status 7 then 3; a payto from a funded 01-seed wallet is
// accepted by bchd and confirmed; a watch-only payto gives Electron Cash's
// unsigned format, which the xprv signs and bchd accepts; a reorg by
// invalidateblock; a payment made while the daemon was down.
func TestBCHBchd(t *testing.T) {
	node := harness.StartBchd(t)
	node.Generate(101)
	d := daemon.Start(t, "bch", "BCH_NETWORK=regtest", "BCH_SERVER="+node.WSURL())
	waitSynced(t, d, node.Height())

	t.Run("ElectronCashAddresses", func(t *testing.T) {
		for _, label := range []string{"electrum-seed", "bip39-seed", "old-seed", "standard-account-xpub", "imported-addresses"} {
			vw := ecVector(t, label)
			var recv, change []string
			d.Must(&recv, vw.KeyMaterial, "listaddresses", true)
			d.Must(&change, vw.KeyMaterial, "listaddresses", false, true)
			for i, want := range vw.ReceivingBare {
				if i >= len(recv) || recv[i] != want {
					t.Fatalf("%s: receiving %d is %v, Electron Cash %s", label, i, recv, want)
				}
			}
			for i, want := range vw.Change {
				if i >= len(change) || change[i] != bare(want) {
					t.Fatalf("%s: change %d is %v, Electron Cash %s", label, i, change, bare(want))
				}
			}
			var unused string
			d.Must(&unused, vw.KeyMaterial, "getunusedaddress")
			if unused != vw.ReceivingBare[0] {
				t.Fatalf("%s: getunusedaddress %s, want %s", label, unused, vw.ReceivingBare[0])
			}
			var mpk string
			d.Must(&mpk, vw.KeyMaterial, "getmpk")
			if mpk != vw.MPK && !(vw.MPK == "" && mpk == "") {
				t.Fatalf("%s: getmpk %q, Electron Cash %q", label, mpk, vw.MPK)
			}
		}
	})

	// Private keys come back as Electron Cash exports them: plain WIF.
	t.Run("ExportedKeys", func(t *testing.T) {
		vw := ecVector(t, "imported-wif")
		if len(vw.Imports) == 0 {
			t.Fatal("no imported keys in the vectors")
		}
		for _, imp := range vw.Imports {
			var wif string
			d.Must(&wif, vw.KeyMaterial, "getprivatekeys", imp.Address)
			if wif != imp.WIF {
				t.Fatalf("getprivatekeys(%s) = %s…, Electron Cash %s…", imp.Address, wif[:4], imp.WIF[:4])
			}
		}
	})

	// The acceptance check: a request paid from outside (bchd's harness
	// wallet) yields new_payment with the bare cashaddr, status 7
	// (Unconfirmed) then 3 (Paid).
	t.Run("InvoiceLifecycle", func(t *testing.T) {
		node := node.For(t)
		vw := ecVector(t, "bip39-seed")
		ws := d.Dial("")
		defer ws.Close()
		ws.Filter(vw.MPK) // events name a seed wallet by its master public key
		var r ecRequest
		d.Must(&r, vw.KeyMaterial, "addrequest", "0.5", "order 7", 900)
		if r.Address != vw.ReceivingBare[0] || r.URI != "bchreg:"+r.Address+"?amount=0.5" || r.Status != "Pending" ||
			r.AmountBCH != "0.5" || r.Amount == nil || *r.Amount != 50_000_000 || r.Exp == nil || *r.Exp != 900 ||
			r.ID != bch.RequestID(vw.ReceivingLegacy[0], r.Time) || r.SentAmount != "0.00000000" {
			t.Fatalf("addrequest: %+v", r)
		}
		txid := node.Fund(r.Address, 50_000_000)
		f := ws.Next(10*time.Second, "new_payment 7", daemon.IsEvent("new_payment",
			map[string]any{"address": r.Address, "status": 7, "status_str": "Unconfirmed", "sent_amount": "0.50000000"}))
		if f.Currency != "BCH" {
			t.Fatalf("frame %+v", f)
		}
		if got := getECRequest(t, d, vw.KeyMaterial, "bchreg:"+r.Address); got.Status != "Unconfirmed" ||
			len(got.TxHashes) != 1 || got.TxHashes[0] != txid.String() || got.Confirmations == nil || *got.Confirmations != 0 {
			t.Fatalf("getrequest after the mempool: %+v", got)
		}
		node.Generate(1)
		ws.Next(10*time.Second, "verified_tx", daemon.IsEvent("verified_tx", map[string]any{"tx": txid.String(), "height": node.Height()}))
		ws.Next(10*time.Second, "new_payment 3", daemon.IsEvent("new_payment",
			map[string]any{"address": r.Address, "status": 3, "status_str": "Paid"}))
		var got ecRequest
		d.Must(&got, vw.KeyMaterial, "get_request", r.Address)
		if got.Status != "Paid" || got.Confirmations == nil || *got.Confirmations != 1 {
			t.Fatalf("get_request after the block: %+v", got)
		}
		var list []ecRequest
		d.Must(&list, vw.KeyMaterial, "listrequests", false, false, true)
		if len(list) != 1 || list[0].Address != r.Address {
			t.Fatalf("listrequests(paid): %+v", list)
		}
	})

	// The acceptance check: payto from a funded Electrum 01 seed wallet,
	// accepted by bchd and confirmed.
	t.Run("Payout", func(t *testing.T) {
		node := node.For(t)
		seed := ecVector(t, "electrum-seed")
		if keys.ElectronCashSeedType(seed.KeyMaterial) != keys.ECSeedElectrum {
			t.Fatal("the vector is not an Electrum 01 seed")
		}
		node.Fund(seed.ReceivingBare[1], 100_000_000)
		node.Generate(1)
		waitSynced(t, d, node.Height())
		waitBalance(t, d, seed.KeyMaterial, "1.00000000", "")
		_, _, dest := node.NewKey(false)
		var signed string
		d.Must(&signed, seed.KeyMaterial, "payto", dest, "0.1")
		tx := decodeHexTx(t, signed)
		if tx.Version != 1 || tx.TxIn[0].Sequence != 0xfffffffe {
			t.Fatalf("version %d sequence %#x: not Electron Cash's", tx.Version, tx.TxIn[0].Sequence)
		}
		var txid string
		d.Must(&txid, seed.KeyMaterial, "broadcast", signed)
		if txid != tx.TxHash().String() || !node.InMempool(tx.TxHash()) {
			t.Fatalf("broadcast %s: not in bchd's mempool", txid)
		}
		var fee string
		d.Must(&fee, seed.KeyMaterial, "get_used_fee", txid)
		if f := parseSats(t, fee); f != int64(tx.SerializeSize()) {
			t.Fatalf("fee %s for %d bytes: not 1 sat/byte", fee, tx.SerializeSize())
		}
		node.Generate(1)
		if c := node.Confirmations(tx.TxHash()); c != 1 {
			t.Fatalf("the payout has %d confirmations in bchd", c)
		}
		waitSynced(t, d, node.Height())
		var hist []map[string]any
		d.Must(&hist, seed.KeyMaterial, "history")
		if len(hist) < 2 || hist[0]["txid"] != txid || hist[0]["confirmations"] != float64(1) ||
			!strings.HasPrefix(hist[0]["value"].(string), "-0.1") {
			t.Fatalf("history: %v", hist)
		}
		e := rpcErr(t, d, seed.KeyMaterial, "bumpfee", signed, 5)
		if e.Code != -32602 || !strings.Contains(e.Message, "replace-by-fee") {
			t.Fatalf("bumpfee: %d %q", e.Code, e.Message)
		}
	})

	// Watch-only: payto gives Electron Cash's unsigned transaction; the
	// wallet of the matching xprv signs it, bchd accepts it.
	t.Run("WatchOnlyPayto", func(t *testing.T) {
		node := node.For(t)
		xpub, xprv := ecVector(t, "standard-account-xpub"), ecVector(t, "standard-account-xprv")
		node.Fund(xpub.ReceivingBare[2], 30_000_000)
		node.Generate(1)
		waitSynced(t, d, node.Height())
		waitBalance(t, d, xpub.KeyMaterial, "0.30000000", "")
		_, _, dest := node.NewKey(false)
		var unsigned string
		d.Must(&unsigned, xpub.KeyMaterial, "payto", dest, "0.2")
		raw, _ := hex.DecodeString(unsigned)
		tx, ins, err := bch.ParseUnsigned(raw)
		if err != nil || len(ins) != 1 || ins[0] == nil || len(ins[0].Key.BIP32) != 78 || ins[0].Value != 30_000_000 {
			t.Fatalf("watch-only payto is not Electron Cash's unsigned format: %v %+v", err, ins)
		}
		var signed string
		d.Must(&signed, xprv.KeyMaterial, "signtransaction", unsigned)
		stx := decodeHexTx(t, signed)
		if len(stx.TxIn) != 1 || stx.TxIn[0].PreviousOutPoint != tx.TxIn[0].PreviousOutPoint ||
			len(stx.TxIn[0].SignatureScript) == 0 || len(stx.TxOut) != len(tx.TxOut) || stx.TxOut[0].Value != tx.TxOut[0].Value {
			t.Fatal("signing changed the transaction, or signed nothing")
		}
		var txid string
		d.Must(&txid, xprv.KeyMaterial, "broadcast", signed)
		if !node.InMempool(stx.TxHash()) {
			t.Fatalf("%s not in bchd's mempool", txid)
		}
	})

	t.Run("Reorg", func(t *testing.T) {
		node := node.For(t)
		vw := ecVector(t, "standard-account-xpub")
		ws := d.Dial("")
		defer ws.Close()
		ws.Filter(vw.KeyMaterial)
		var r ecRequest
		d.Must(&r, vw.KeyMaterial, "addrequest", "0.3")
		node.Fund(r.Address, 30_000_000)
		b := node.Generate(1)[0]
		ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.Address, "status": 3}))
		node.InvalidateBlock(b)
		ws.Next(20*time.Second, "unconfirmed after the reorg", daemon.IsEvent("new_payment", map[string]any{"address": r.Address, "status": 7}))
		waitSynced(t, d, node.Height())
		if got := getECRequest(t, d, vw.KeyMaterial, r.Address); got.Status != "Unconfirmed" {
			t.Fatalf("after the reorg: %+v", got)
		}
		node.Generate(1)
		ws.Next(20*time.Second, "paid again", daemon.IsEvent("new_payment", map[string]any{"address": r.Address, "status": 3}))
	})

	// A payment made while the daemon is down (killed): found on restart,
	// and its new_payment (bare cashaddr) is replayed from the log.
	t.Run("RestartPaymentWhileDown", func(t *testing.T) {
		node := node.For(t)
		vw := ecVector(t, "old-mpk")
		ws := d.Dial("")
		var r ecRequest
		d.Must(&r, vw.KeyMaterial, "addrequest", "0.2", "", nil, true)
		node.Generate(1)
		last := ws.Next(10*time.Second, "new_block", daemon.IsEvent("new_block", nil)).Seq()
		ws.Close()
		d.Kill()
		node.Fund(r.Address, 20_000_000)
		node.Generate(1)
		d.Restart()
		waitSynced(t, d, node.Height())
		got := getECRequest(t, d, vw.KeyMaterial, r.Address)
		if got.Status != "Paid" || got.SentAmount != "0.20000000" {
			t.Fatalf("after restart: %+v", got)
		}
		ws2 := d.Dial(fmt.Sprintf("?since=%d", last))
		defer ws2.Close()
		p := ws2.Next(10*time.Second, "replayed new_payment", daemon.IsEvent("new_payment",
			map[string]any{"address": r.Address, "status": 3, "status_str": "Paid"}))
		if p.Seq() <= last || p.Wallet == nil || *p.Wallet != vw.KeyMaterial {
			t.Fatalf("replayed %+v (after %d)", p, last)
		}
	})
}
