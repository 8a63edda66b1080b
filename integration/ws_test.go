package integration

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/integration/daemon"
)

// wsClient is a websocket client of the real daemon that can wait until
// the daemon has handled the frames it sent (a ping's pong comes after
// them).
type wsClient struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan daemon.Frame
	pongs  chan string
	n      int
}

func dialWSClient(t *testing.T, d *daemon.Proc) *wsClient {
	t.Helper()
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(d.URL, "http")+"/ws", h)
	if err != nil {
		t.Fatalf("ws dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	w := &wsClient{t: t, c: c, frames: make(chan daemon.Frame, 1000), pongs: make(chan string, 4)}
	c.SetPongHandler(func(p string) error { w.pongs <- p; return nil })
	go func() {
		defer close(w.frames)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			var f daemon.Frame
			if json.Unmarshal(msg, &f) == nil {
				w.frames <- f
			}
		}
	}()
	return w
}

// register sends a register frame and waits until the daemon applied it.
func (w *wsClient) register(frame string) {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		w.t.Fatal(err)
	}
	w.n++
	want := fmt.Sprint("sync ", w.n)
	if err := w.c.WriteControl(websocket.PingMessage, []byte(want), time.Now().Add(5*time.Second)); err != nil {
		w.t.Fatal(err)
	}
	select {
	case p := <-w.pongs:
		if p != want {
			w.t.Fatalf("pong %q want %q", p, want)
		}
	case <-time.After(10 * time.Second):
		w.t.Fatal("no pong from the daemon")
	}
}

// events returns the events received until one matches stop (included).
func (w *wsClient) until(what string, stop func(daemon.Frame) bool) []daemon.Frame {
	w.t.Helper()
	var out []daemon.Frame
	deadline := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-w.frames:
			if !ok {
				w.t.Fatalf("socket closed waiting for %s", what)
			}
			out = append(out, f)
			if stop(f) {
				return out
			}
		case <-deadline:
			w.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func frameWallet(f daemon.Frame) string {
	if f.Wallet == nil {
		return "<null>"
	}
	return *f.Wallet
}

// TestWSFilterAcrossKeyForms: a socket filtered on one key form of a
// wallet receives the events caused through another form (request made
// with the seed, socket filtered on its xpub, and the other way round; xprv
// and the merchant's object form too), named as it registered; a socket
// filtered on another wallet, or on a string that is not a key, gets only
// global events.
func TestWSFilterAcrossKeyForms(t *testing.T) {
	node, d := startBTC(t)
	seedW := vectorWallet(t, "electrum-segwit-seed") // its MPK is a vpub
	xpubW := vectorWallet(t, "standard-account-xpub")
	xprvW := vectorWallet(t, "standard-account-xprv") // the same wallet as xpubW
	other := vectorWallet(t, "p2wpkh-account-xpub")

	onMPK := dialWSClient(t, d)
	onMPK.register(fmt.Sprintf(`{"xpub":%q}`, seedW.MPK))
	onSeed := dialWSClient(t, d)
	onSeed.register(fmt.Sprintf(`{"xpub":%q}`, seedW.KeyMaterial))
	onObject := dialWSClient(t, d)
	onObject.register(fmt.Sprintf(`{"xpub":{"xpub":%q,"contract":null,"diskless":false}}`, seedW.MPK))
	onXprv := dialWSClient(t, d)
	onXprv.register(fmt.Sprintf(`{"xpub":%q}`, xprvW.KeyMaterial))
	onOther := dialWSClient(t, d)
	onOther.register(fmt.Sprintf(`{"xpub":%q}`, other.KeyMaterial))
	onJunk := dialWSClient(t, d)
	onJunk.register(`{"xpub":"not a wallet key"}`)

	// A request made with the seed, paid: the MPK-filtered sockets see it.
	var r1, r2, r3 request
	d.Must(&r1, seedW.KeyMaterial, "add_request", "0.01", "via seed", 900)
	node.Fund(r1.Address, 1_000_000)
	paid := func(id string) func(daemon.Frame) bool {
		return daemon.IsEvent("new_payment", map[string]any{"address": id, "status": 7})
	}
	for _, c := range []struct {
		w    *wsClient
		name string
	}{{onMPK, seedW.MPK}, {onSeed, seedW.KeyMaterial}, {onObject, seedW.MPK}} {
		fs := c.w.until("new_payment of the seed's request", paid(r1.RequestID))
		for _, f := range fs {
			if frameWallet(f) != c.name {
				t.Fatalf("frame %v named %s, want %s", f.Event(), frameWallet(f), c.name)
			}
		}
	}
	// A request made with the MPK, paid: the seed-filtered socket sees it.
	d.Must(&r2, seedW.MPK, "add_request", "0.02", "via mpk", 900)
	node.Fund(r2.Address, 2_000_000)
	for _, c := range []struct {
		w    *wsClient
		name string
	}{{onSeed, seedW.KeyMaterial}, {onMPK, seedW.MPK}} {
		fs := c.w.until("new_payment of the MPK's request", paid(r2.RequestID))
		if got := frameWallet(fs[len(fs)-1]); got != c.name {
			t.Fatalf("new_payment named %s, want %s", got, c.name)
		}
	}
	// The xpub wallet, watched by its xprv.
	d.Must(&r3, xpubW.KeyMaterial, "add_request", "0.03", "via xpub", 900)
	node.Fund(r3.Address, 3_000_000)
	fs := onXprv.until("new_payment of the xpub's request", paid(r3.RequestID))
	if got := frameWallet(fs[len(fs)-1]); got != xprvW.KeyMaterial {
		t.Fatalf("xprv socket got wallet %s", got)
	}

	// A block: the narrow sockets that match nothing get only new_block.
	node.Generate(1)
	block := daemon.IsEvent("new_block", map[string]any{"height": node.Height()})
	for _, w := range []*wsClient{onOther, onJunk} {
		for _, f := range w.until("new_block", block) {
			if f.Event()["event"] != "new_block" || f.Wallet != nil {
				t.Fatalf("a socket filtered on another wallet got %v (wallet %s)", f.Event(), frameWallet(f))
			}
		}
	}
	// The seed's socket saw none of the xpub wallet's events.
	for _, f := range onSeed.until("new_block", block) {
		if f.Wallet != nil && *f.Wallet != seedW.KeyMaterial {
			t.Fatalf("seed socket got another wallet's event %v (%s)", f.Event(), frameWallet(f))
		}
	}
}

// TestWSLimitsFromEnvironment: BTC_WS_MAX_CLIENTS and BTC_WS_ORIGINS reach
// the hub of the real binary: a client past the cap and a browser from an
// origin not listed are answered with JSON errors; a listed origin and a
// client without Origin (the SDK) upgrade.
func TestWSLimitsFromEnvironment(t *testing.T) {
	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_WS_MAX_CLIENTS=2", "BTC_WS_ORIGINS=https://admin.example,https://ops.example")
	url := "ws" + strings.TrimPrefix(d.URL, "http") + "/ws"
	dial := func(origin string) (*websocket.Conn, string) {
		h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := websocket.DefaultDialer.Dial(url, h)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c, ""
		}
		if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
			t.Fatalf("dial: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		return nil, string(b)
	}
	if _, body := dial("https://evil.example"); !strings.Contains(body, `"code":-32600`) {
		t.Fatalf("foreign origin: %q", body)
	}
	a, _ := dial("")
	if b, body := dial("https://ops.example"); b == nil {
		t.Fatalf("listed origin refused: %s", body)
	}
	if _, body := dial(""); !strings.Contains(body, `"code":-32603`) || !strings.Contains(body, "limit 2") {
		t.Fatalf("third client: %q", body)
	}
	a.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, body := dial("")
		if c != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a slot never freed: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sdkEvent is one line of integration/testdata/ws_sdk.py.
type sdkEvent struct {
	Client  string `json:"client"`
	Event   string `json:"event"`
	Address string `json:"address"`
	Status  int    `json:"status"`
	Height  int32  `json:"height"`
	Coin    string `json:"coin"`
	Wallet  string `json:"wallet"`
}

// startSDKClients runs the real Bitcart SDK's two websocket clients (see
// ws_sdk.py) against d and returns their events.
func startSDKClients(t *testing.T, d *daemon.Proc, key string) <-chan sdkEvent {
	t.Helper()
	sdk, err := filepath.Abs("../../shared/bitcart-sdk")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/ws_sdk.py", d.URL, key)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+sdk+":"+filepath.Join(sdk, "vendor"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("python3: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ws_sdk.py stderr:\n%s", stderr.String())
		}
	})
	ch := make(chan sdkEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e sdkEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				ch <- e
			}
		}
	}()
	return ch
}

// nextSDK waits for the next event of client that matches pred.
func nextSDK(t *testing.T, ch <-chan sdkEvent, what string, pred func(sdkEvent) bool) sdkEvent {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("the SDK clients exited while waiting for %s", what)
			}
			if pred(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestWSRealSDKClients: the real SDK's single-wallet client, registered
// with a seed, gets new_payment for a request made with the seed's master
// public key, and not another wallet's; the merchant's way (an APIManager
// that registers nothing) gets both, each handed to a BTC instance named by
// the frame's wallet.
func TestWSRealSDKClients(t *testing.T) {
	node, d := startBTC(t)
	seedW := vectorWallet(t, "electrum-segwit-seed")
	other := vectorWallet(t, "p2wpkh-account-xpub")
	ch := startSDKClients(t, d, seedW.KeyMaterial)
	events := make(map[string]chan sdkEvent)
	for _, c := range []string{"single", "merchant"} {
		events[c] = make(chan sdkEvent, 100)
	}
	nextSDK(t, ch, "both SDK clients connected", func(e sdkEvent) bool { return e.Event == "ready" })
	go func() {
		for e := range ch {
			if c := events[e.Client]; c != nil {
				c <- e
			}
		}
		for _, c := range events {
			close(c)
		}
	}()

	var mine, theirs request
	d.Must(&mine, seedW.MPK, "add_request", "0.01", "via the mpk", 900)
	node.Fund(mine.Address, 1_000_000)
	paid := func(r request) func(sdkEvent) bool {
		return func(e sdkEvent) bool { return e.Event == "new_payment" && e.Address == r.RequestID && e.Status == 7 }
	}
	nextSDK(t, events["single"], "the single-wallet client's new_payment", paid(mine))
	m := nextSDK(t, events["merchant"], "the merchant's new_payment", paid(mine))
	if m.Coin != "BTC" || m.Wallet == "" {
		t.Fatalf("merchant handler got %+v", m)
	}

	d.Must(&theirs, other.KeyMaterial, "add_request", "0.02", "another wallet", 900)
	node.Fund(theirs.Address, 2_000_000)
	m = nextSDK(t, events["merchant"], "the merchant's new_payment of the other wallet", paid(theirs))
	if m.Wallet != other.KeyMaterial {
		t.Fatalf("merchant handler's instance is named %q, want the other wallet's key", m.Wallet)
	}
	node.Generate(1)
	height := node.Height()
	nextSDK(t, events["single"], "new_block", func(e sdkEvent) bool {
		if e.Event == "new_payment" && e.Address == theirs.RequestID {
			t.Fatalf("the single-wallet client got another wallet's payment: %+v", e)
		}
		return e.Event == "new_block" && e.Height == height
	})
}
