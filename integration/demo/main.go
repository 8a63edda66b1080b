// Command demo shows walletd working on a fresh machine: it starts a btcd
// regtest node and the BTC daemon wired to it, creates a payment request for
// an Electrum wallet, pays it from the node, and prints what a Bitcart
// merchant sees on the websocket: new_payment "Unconfirmed", then a block,
// verified_tx and new_payment "Paid". Then it keeps both running until
// Ctrl-C so you can try the API yourself (it prints curl commands).
// With -coin=ltc it does the same for Litecoin: Debian's litecoind (regtest)
// and `daemon ltc` on the Core JSON-RPC backend (LTC_SERVER=http://…). With
// -coin=bch, for Bitcoin Cash: bchd (regtest) and `daemon bch`, which speaks
// Electron Cash's methods (addrequest, getrequest; events name the request by
// its bare cashaddr).
//
//	go run ./integration/demo [-coin=ltc|bch] (scripts/run-regtest.sh builds what it needs)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// demoXpub is an Electrum p2wpkh account key (vpub) on regtest; its first
// receiving address is bcrt1q… (rltc1q… on Litecoin), exactly as Electrum
// (Electrum-LTC) derives it.
const demoXpub = "vpub5ZAzT2yFb7B3KqJKN5G8qVJFRk9xkcnVZX19GhFzPXhPhQzvtvw7zuF6uieRtYjvgGKSvsqrv7ZMUhRcKgsodhZBdgYdYLcqW6EnStXEdVW"

// demoBCHXpub is an Electron Cash standard account key on regtest (a test
// vector of ../shared/testdata/electroncash): its first receiving address is
// the P2PKH cashaddr Electron Cash derives.
const demoBCHXpub = "tpubDCbnKpK66Lvpw75MH51X1ACxSrvvGVPeqgJUfcGdvDWvxwxmiojTRGJyg68LeWe9uSYP5fw6ARgWbBjJzDotLSiHG2A26N59423Kc3R4uaq"

// chainNode is what the demo needs of a regtest node (harness.Node for btcd
// and litecoind, harness.BCHNode for bchd).
type chainNode interface {
	Generate(count int) []chainhash.Hash
	Height() int32
	RPCAddr() string
	Fund(addr string, amount int64) chainhash.Hash
}

func main() {
	hold := flag.Bool("hold", true, "keep the node and the daemon running until Ctrl-C")
	coin := flag.String("coin", "btc", "btc (btcd, websocket backend), ltc (litecoind, Core JSON-RPC backend) or bch (bchd, websocket backend)")
	flag.Parse()
	p := &harness.Program{}
	defer p.Close()

	var node chainNode
	var d *daemon.Proc
	ticker := "BTC"
	// Electrum's methods; Electron Cash's on BCH.
	xpub, addRequest, getRequest := demoXpub, "add_request", "get_request"
	switch *coin {
	case "btc":
		step("starting btcd (regtest) on 127.0.0.1")
		n := harness.StartBtcd(p)
		node = n
		node.Generate(101)
		fmt.Printf("   node at %s, height %d\n", node.RPCAddr(), node.Height())
		step("starting walletd: daemon btc")
		d = daemon.Start(p, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+n.WSURL())
	case "ltc":
		ticker = "LTC"
		step("starting litecoind (regtest) on 127.0.0.1")
		n := harness.StartLitecoind(p)
		node = n
		node.Generate(101)
		fmt.Printf("   node at %s, height %d\n", node.RPCAddr(), node.Height())
		step("starting walletd: daemon ltc (Core JSON-RPC backend, 250 ms polling)")
		d = daemon.Start(p, "ltc", "LTC_NETWORK=regtest", "LTC_SERVER="+n.HTTPURL())
	case "bch":
		ticker = "BCH"
		xpub, addRequest, getRequest = demoBCHXpub, "addrequest", "getrequest"
		step("starting bchd (regtest) on 127.0.0.1")
		n := harness.StartBchd(p)
		node = n
		node.Generate(101)
		fmt.Printf("   node at %s, height %d\n", node.RPCAddr(), node.Height())
		step("starting walletd: daemon bch (Electron Cash's methods)")
		d = daemon.Start(p, "bch", "BCH_NETWORK=regtest", "BCH_SERVER="+n.WSURL())
	default:
		p.Fatalf("-coin: %q is not btc, ltc or bch", *coin)
	}
	fmt.Printf("   walletd at %s (data in %s)\n", d.URL, d.DataDir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var info map[string]any
		raw, err := d.Call("", "getinfo")
		if err == nil && json.Unmarshal(raw, &info) == nil && info["synchronized"] == true {
			fmt.Printf("   getinfo: %s\n", raw)
			break
		}
		if time.Now().After(deadline) {
			p.Fatalf("walletd did not synchronize")
		}
		time.Sleep(50 * time.Millisecond)
	}

	step("a merchant listens on /ws and creates a request for 0.5 " + ticker)
	ws := d.Dial("")
	ws.Filter(xpub)
	var req map[string]any
	d.Must(&req, xpub, addRequest, "0.5", "demo order", 900)
	show(addRequest, req)

	step("the customer pays from the node")
	sent := time.Now()
	txid := node.Fund(req["address"].(string), 50_000_000)
	fmt.Printf("   broadcast %s\n", txid)
	f := ws.Next(10*time.Second, "new_payment", daemon.IsEvent("new_payment", map[string]any{"status": 7}))
	fmt.Printf("   /ws after %v: %s\n", f.At.Sub(sent).Round(time.Millisecond), frame(f))

	step("a block is mined")
	node.Generate(1)
	f = ws.Next(10*time.Second, "verified_tx", daemon.IsEvent("verified_tx", nil))
	fmt.Printf("   /ws: %s\n", frame(f))
	f = ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"status": 3}))
	fmt.Printf("   /ws: %s\n", frame(f))
	// A request is named by its id (Electrum), by its address (Electron Cash).
	key := req["request_id"]
	if *coin == "bch" {
		key = req["address"]
	}
	d.Must(&req, xpub, getRequest, key)
	show(getRequest, req)

	if !*hold {
		return
	}
	step("try it yourself (Ctrl-C stops the node and the daemon)")
	fmt.Printf("   curl -s -u electrum:electrumz -d '{\"id\":1,\"method\":\"getbalance\",\"params\":{\"xpub\":\"%s\"}}' %s/\n", xpub, d.URL)
	fmt.Printf("   curl -s -u electrum:electrumz -d '{\"id\":1,\"method\":\"help\"}' %s/\n", d.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

func step(s string) { fmt.Printf("\n== %s\n", s) }

func show(what string, v any) {
	b, _ := json.MarshalIndent(v, "   ", "  ")
	fmt.Printf("   %s → %s\n", what, b)
}

func frame(f daemon.Frame) string {
	b, _ := json.Marshal(map[string]any{"updates": f.Updates, "wallet": f.Wallet, "currency": f.Currency})
	return string(b)
}
