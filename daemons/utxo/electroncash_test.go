package utxo

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/internal/vectors"
)

// TestElectronCashRequestShape: the addrequest example of the Electron
// Cash vectors (bip39-seed, 0.5 BCH, memo, 900 s, clock fixed) renders as
// Bitcart's BCH daemon replied, member for member and in its order: the
// id Electron Cash makes, the bare cashaddr, the URI with the prefix,
// "Pending", "amount (BCH)" and sent_amount; on every network.
func TestElectronCashRequestShape(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range []string{"mainnet", "testnet", "regtest"} {
		nv := v.Networks[name]
		ex := nv.AddRequest
		var w vectors.ECWallet
		for _, x := range nv.Wallets {
			if x.Label == ex.Wallet {
				w = x
			}
		}
		net, _ := params.BCH(name)
		script, _ := net.PkScript(w.Receiving[0])
		addr, _ := net.AddressFromScript(script)
		at := time.Unix(ex.Clock, 0)
		coin := bch.Coin(net)
		view := &wallet.RequestView{Request: wallet.Request{ID: coin.RequestID(script, addr, at), Address: addr,
			PkScript: script, Amount: 50_000_000, Memo: "memo", Timestamp: ex.Clock, Expiry: 900},
			Status: wallet.StatusUnpaid, At: at, TxHashes: []string{}}
		d := &Daemon{net: net, coin: Coin{Ticker: "BCH", Flavor: ElectronCash}}
		raw, err := json.Marshal(d.ecRequestJSON(view))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		_ = json.Unmarshal(raw, &got)
		if !reflect.DeepEqual(got, ex.Bitcart) {
			t.Errorf("%s: addrequest renders\n%s\nBitcart's BCH daemon replied\n%v", name, raw, ex.Bitcart)
		}
		order := []string{`"time"`, `"amount"`, `"exp"`, `"address"`, `"memo"`, `"id"`, `"tokenreq"`, `"category_id"`,
			`"URI"`, `"status"`, `"tx_hashes"`, `"amount (BCH)"`, `"sent_amount"`}
		last := -1
		for _, k := range order {
			i := strings.Index(string(raw), k+":")
			if i <= last {
				t.Fatalf("%s: member %s out of Electron Cash's order in %s", name, k, raw)
			}
			last = i
		}
	}
	// Paid: confirmations appear (after tx_hashes), the status is a word.
	net, _ := params.BCH("regtest")
	d := &Daemon{net: net, coin: Coin{Ticker: "BCH", Flavor: ElectronCash}}
	paid := d.ecRequestJSON(&wallet.RequestView{Request: wallet.Request{Address: "q", Amount: 100_000_000},
		Status: wallet.StatusPaid, Paid: true, Confirmations: 2, TxHashes: []string{"ab"}, Sent: 100_000_000})
	raw, _ := json.Marshal(paid)
	if !strings.Contains(string(raw), `"status":"Paid","tx_hashes":["ab"],"confirmations":2,"amount (BCH)":"1.","sent_amount":"1.00000000"`) ||
		!strings.Contains(string(raw), `"URI":"bchreg:q?amount=1."`) || !strings.Contains(string(raw), `"exp":null`) {
		t.Errorf("paid request: %s", raw)
	}
}
