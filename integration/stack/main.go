// Command stack drives a running regtest compose stack (docker-compose.<coin>.yml
// with the regtest profile) through its published port only, as a merchant
// would: it waits for /readyz, checks getinfo (and, with -version, the
// stamped version in getinfo's walletd_version, version_info and /spec),
// then pays a request
// from the customer wallet the stack's miner pays and prints what arrives on
// /ws: new_payment "Unconfirmed", then "Paid" once the miner's next block
// confirms it. BTC and LTC speak Electrum's methods (add_request; events
// name the request id); BCH speaks Electron Cash's (addrequest; events name
// the bare cashaddr). It exits 1 when any step fails, so the container suite
// (scripts/tests.d/containers.sh) runs it as its end-to-end check.
//
//	go run ./integration/stack -coin btc          (reads ./.env like docker-compose)
//	go run ./integration/stack -coin ltc -env-file my.env
//	go run ./integration/stack -coin bch
//
// The customer and merchant wallets are public Electrum test seeds
// (worthless regtest coins). With -request-file the paid request's key (its
// id; on BCH its bare cashaddr) is written to a file; -check-request-file
// then only checks that the request is still there and paid (after a new
// container: the store survived).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// customerSeed is the wallet the BTC and LTC regtest miners pay (its first
// receiving address is the compose files' default mining address:
// bcrt1q3m9g8v6g3c380z7254vrq0umdq60ptcxw3ujuy, rltc1q3m9g8v6g3c380z7254vrq0umdq60ptcxsuxmt6).
// It is a test vector of ../shared/testdata/electrum: public, regtest only.
const customerSeed = "dove yard flock tower palace loop tragic region inner hover list minute"

// bchCustomerSeed is the wallet the BCH regtest miner pays: a BIP39 phrase,
// which Electron Cash derives at m/44'/145'/0' (its first receiving address,
// bchreg:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2cq3drge2x, is
// docker-compose.bch.yml's default mining address). The Electrum segwit seed
// above is no Electron Cash seed. A test vector of
// ../shared/testdata/electroncash: public, regtest only.
const bchCustomerSeed = "nice smooth disease student daughter ramp broccoli weasel trumpet family spray around"

// merchantSeed is the wallet that creates the requests (another public
// test vector, an Electrum 01 seed: Electrum and Electron Cash both take it).
const merchantSeed = "crouch cherry obtain snake soccer wolf movie parent please economy stone anchor"

// coin is what differs between the stacks.
type coin struct {
	port     int    // Bitcart's port, the compose file's published default
	customer string // the wallet the stack's miner pays
	// electronCash: the daemon speaks Electron Cash's methods (BCH):
	// addrequest and getrequest, requests named by their bare cashaddr,
	// status as a word in getrequest's reply.
	electronCash bool
}

var coins = map[string]coin{
	"btc": {port: 5000, customer: customerSeed},
	"ltc": {port: 5001, customer: customerSeed},
	"bch": {port: 5004, customer: bchCustomerSeed, electronCash: true},
}

func main() {
	coin := flag.String("coin", "btc", "coin of the stack: btc, ltc or bch")
	envFile := flag.String("env-file", ".env", "file of KEY=VALUE defaults, as docker-compose reads (ignored when missing)")
	url := flag.String("url", "", "walletd's published URL (default http://<COIN>_PUBLISH, else http://127.0.0.1:<Bitcart's port>)")
	version := flag.String("version", "", "when set, the version walletd must report (getinfo's walletd_version, version_info, /spec)")
	amount := flag.String("amount", "0.01", "amount of the request, in coin units")
	wait := flag.Duration("wait", 5*time.Minute, "how long to wait for readiness, the customer's funds and each event")
	requestFile := flag.String("request-file", "", "write the paid request's key (id; BCH: bare cashaddr) to this file")
	checkFile := flag.String("check-request-file", "", "only check that the request whose key this file holds is paid")
	flag.Parse()
	c, err := newClient(*coin, *envFile, *url)
	switch {
	case err != nil:
	case *checkFile != "":
		err = c.checkPaid(*checkFile, *wait)
	default:
		err = c.run(*version, *amount, *wait, *requestFile)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack: FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("stack: OK")
}

// client talks to one walletd over HTTP and websockets.
type client struct {
	coin
	name, ticker, url, login, password string
	http                               *http.Client
}

func newClient(name, envFile, url string) (*client, error) {
	name = strings.ToLower(name)
	co, ok := coins[name]
	if !ok {
		return nil, fmt.Errorf("unknown coin %q (btc, ltc or bch)", name)
	}
	env, err := readEnvFile(envFile)
	if err != nil {
		return nil, err
	}
	prefix := strings.ToUpper(name)
	get := func(k string) string {
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return env[k]
	}
	if url == "" {
		url = fmt.Sprintf("http://127.0.0.1:%d", co.port)
		if p := get(prefix + "_PUBLISH"); p != "" {
			url = "http://" + p
		}
	}
	c := &client{coin: co, name: name, ticker: prefix, url: strings.TrimRight(url, "/"),
		login: get(prefix + "_LOGIN"), password: get(prefix + "_PASSWORD"),
		http: &http.Client{Timeout: 30 * time.Second}}
	if c.login == "" || c.password == "" {
		return nil, fmt.Errorf("%s_LOGIN and %s_PASSWORD are not set (environment or %s)", prefix, prefix, envFile)
	}
	return c, nil
}

// readEnvFile reads KEY=VALUE lines (# comments, optional quotes); a
// missing file is empty.
func readEnvFile(path string) (map[string]string, error) {
	env := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return env, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		env[strings.TrimSpace(k)] = v
	}
	return env, sc.Err()
}

func step(format string, args ...any) { fmt.Printf("\n== "+format+"\n", args...) }

func show(what string, v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("   %s: %s\n", what, b)
}

// waitReady waits for GET /readyz to answer 200.
func (c *client) waitReady(wait time.Duration) error {
	step("waiting for %s/readyz", c.url)
	last := ""
	err := poll(wait, func() (bool, error) {
		code, body, err := c.get("/readyz", false)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = body
		if code == http.StatusOK {
			fmt.Printf("   %s\n", body)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("/readyz: %w (last: %s)", err, last)
	}
	return nil
}

// checkPaid checks that the request whose id file holds is paid.
func (c *client) checkPaid(file string, wait time.Duration) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	id := strings.TrimSpace(string(b))
	if err := c.waitReady(wait); err != nil {
		return err
	}
	step("request %s is still there, paid", id)
	return c.wantPaid(id, merchantSeed)
}

// request is the part of a payment request (add_request, addrequest) that
// the checks read: Electrum's request_id, or Electron Cash's id; the
// address to pay (Electron Cash: the bare cashaddr).
type request struct {
	RequestID string `json:"request_id"`
	ID        string `json:"id"`
	Address   string `json:"address"`
}

// event is the part of a new_payment event that the checks read: address
// names the request (Electrum: its id; Electron Cash: its bare cashaddr).
type event struct {
	Event   string `json:"event"`
	Address string `json:"address"`
	Status  int    `json:"status"`
}

// wantPaid checks that the request key names is paid: get_request's status
// 3 (Electrum), getrequest's "Paid" (Electron Cash).
func (c *client) wantPaid(key, wallet string) error {
	method, want := "get_request", `3`
	if c.electronCash {
		method, want = "getrequest", `"Paid"`
	}
	var raw json.RawMessage
	if err := c.call(&raw, method, []any{key}, wallet); err != nil {
		return err
	}
	fmt.Printf("   %s: %s\n", method, raw)
	var req struct{ Status json.RawMessage }
	if err := json.Unmarshal(raw, &req); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if string(req.Status) != want {
		return fmt.Errorf("%s: status %s, want %s (paid)", method, req.Status, want)
	}
	return nil
}

func (c *client) run(wantVersion, amount string, wait time.Duration, requestFile string) error {
	if err := c.waitReady(wait); err != nil {
		return err
	}

	var info struct {
		Network         string `json:"network"`
		Connected       bool   `json:"connected"`
		Synchronized    bool   `json:"synchronized"`
		WalletdVersion  string `json:"walletd_version"`
		BlockchainHeigh int32  `json:"blockchain_height"`
	}
	if err := c.call(&info, "getinfo", nil); err != nil {
		return err
	}
	show("getinfo", info)
	if !info.Connected || !info.Synchronized || info.Network != "regtest" {
		return fmt.Errorf("getinfo: want a connected, synchronized regtest daemon, got %+v", info)
	}
	if wantVersion != "" {
		var vi map[string]string
		if err := c.call(&vi, "version_info", nil); err != nil {
			return err
		}
		v := vi["walletd.version"]
		_, body, err := c.get("/spec", true)
		if err != nil {
			return err
		}
		var spec struct{ Version string }
		if err := json.Unmarshal([]byte(body), &spec); err != nil {
			return fmt.Errorf("/spec: %w", err)
		}
		if v != wantVersion || info.WalletdVersion != wantVersion || spec.Version != wantVersion {
			return fmt.Errorf("version: want %q; version_info %q, getinfo %q, /spec %q", wantVersion, v, info.WalletdVersion, spec.Version)
		}
		fmt.Printf("   version %s (getinfo's walletd_version, version_info, /spec)\n", v)
	}

	step("the customer wallet (paid by the stack's miner) has mature coins")
	var bal map[string]string
	if err := poll(wait, func() (bool, error) {
		if err := c.call(&bal, "getbalance", nil, c.customer); err != nil {
			return false, nil // syncing the wallet's history
		}
		return bal["confirmed"] != "" && bal["confirmed"] != "0" && strings.Trim(bal["confirmed"], "0.") != "", nil
	}); err != nil {
		return fmt.Errorf("customer balance (is the miner of the regtest profile up?): %w; last %v", err, bal)
	}
	show("getbalance", bal)

	step("a merchant creates a request for %s %s and listens on /ws", amount, c.ticker)
	merchant := merchantSeed
	ws, err := c.dial()
	if err != nil {
		return err
	}
	defer ws.close()
	// key names the request in new_payment and getrequest: Electrum's
	// request id; Electron Cash's bare cashaddr (Bitcart's BCH merchant
	// matches events by it).
	method := "add_request"
	if c.electronCash {
		method = "addrequest"
	}
	var raw json.RawMessage
	if err := c.call(&raw, method, []any{amount, "stack test", 3600}, merchant); err != nil {
		return err
	}
	fmt.Printf("   %s: %s\n", method, raw)
	var req request
	if err := json.Unmarshal(raw, &req); err != nil || req.Address == "" {
		return fmt.Errorf("%s: no address in %s (%v)", method, raw, err)
	}
	id, addr := req.RequestID, req.Address
	if c.electronCash {
		if req.ID == "" || strings.Contains(addr, ":") {
			return fmt.Errorf("addrequest: want an id and the bare cashaddr, got %s", raw)
		}
		id = addr
	} else if id == "" {
		return fmt.Errorf("add_request: no request_id in %s", raw)
	}

	step("the customer pays it")
	var tx string
	if err := c.call(&tx, "payto", []any{addr, amount}, c.customer); err != nil {
		return err
	}
	var txid string
	if err := c.call(&txid, "broadcast", []any{tx}); err != nil {
		return err
	}
	sent := time.Now()
	fmt.Printf("   broadcast %s\n", txid)
	payment := func(status int) func(event) bool {
		return func(ev event) bool {
			return ev.Event == "new_payment" && ev.Address == id && ev.Status == status
		}
	}
	ev, err := ws.next(wait, "new_payment Unconfirmed", payment(7))
	if err != nil {
		return err
	}
	fmt.Printf("   /ws after %v: %s\n", time.Since(sent).Round(time.Millisecond), ev)

	step("the miner's next block confirms it")
	ev, err = ws.next(wait, "new_payment Paid", payment(3))
	if err != nil {
		return err
	}
	fmt.Printf("   /ws: %s\n", ev)
	if err := c.wantPaid(id, merchant); err != nil {
		return err
	}
	if requestFile != "" {
		return os.WriteFile(requestFile, []byte(id+"\n"), 0o644)
	}
	return nil
}

// poll calls f every half second until it reports true, returns an error,
// or timeout passes.
func poll(timeout time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not after %v", timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *client) auth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.login+":"+c.password))
}

func (c *client) get(path string, auth bool) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, c.url+path, nil)
	if err != nil {
		return 0, "", err
	}
	if auth {
		req.Header.Set("Authorization", c.auth())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// call sends one JSON-RPC request (positional params, plus the wallet key
// when given) and decodes the result into out.
func (c *client) call(out any, method string, params []any, wallet ...string) error {
	if params == nil {
		params = []any{}
	}
	if len(wallet) > 0 {
		params = append(params, map[string]any{"xpub": wallet[0]})
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, err := http.NewRequest(http.MethodPost, c.url+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.auth())
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s: HTTP %d: %w", method, resp.StatusCode, err)
	}
	if r.Error != nil {
		return fmt.Errorf("%s: error %d: %s", method, r.Error.Code, r.Error.Message)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return fmt.Errorf("%s: result %s: %w", method, r.Result, err)
	}
	return nil
}

// socket is a /ws connection.
type socket struct {
	conn   *websocket.Conn
	events chan json.RawMessage
}

// dial opens /ws as Bitcart's merchant does: no wallet filter, every
// event (it picks its requests' by request id).
func (c *client) dial() (*socket, error) {
	u := "ws" + strings.TrimPrefix(c.url, "http") + "/ws"
	conn, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Authorization": {c.auth()}})
	if err != nil {
		return nil, fmt.Errorf("/ws: %w", err)
	}
	s := &socket{conn: conn, events: make(chan json.RawMessage, 1000)}
	go func() {
		defer close(s.events)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var f struct {
				Updates  []json.RawMessage `json:"updates"`
				Currency string            `json:"currency"`
			}
			if json.Unmarshal(msg, &f) == nil && f.Currency == c.ticker {
				for _, ev := range f.Updates {
					s.events <- ev
				}
			}
		}
	}()
	return s, nil
}

// next waits for the next event that matches and returns it as JSON.
func (s *socket) next(timeout time.Duration, what string, match func(event) bool) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return "", fmt.Errorf("/ws closed while waiting for %s", what)
			}
			var r event
			if json.Unmarshal(ev, &r) == nil && match(r) {
				return string(ev), nil
			}
		case <-ctx.Done():
			return "", fmt.Errorf("/ws: no %s within %v", what, timeout)
		}
	}
}

func (s *socket) close() { _ = s.conn.Close() }
