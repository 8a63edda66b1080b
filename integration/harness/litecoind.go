package harness

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/params"
)

// LitecoindEnv names the environment variable that overrides the litecoind
// binary (default: Debian's /usr/lib/litecoin/litecoind, then PATH).
const LitecoindEnv = "WALLETD_LITECOIND"

// flavor describes a node other than btcd to launch: its binary and flags,
// and how it mines and authenticates.
type flavor struct {
	binary string            // name in BinDir (or for messages)
	find   func(t TB) string // binary path, when not in BinDir
	args   func(n *Node) []string
	// generateToAddress: the node mines with generatetoaddress (Core)
	// rather than generate to --miningaddr (btcd family).
	generateToAddress bool
	// cookie: RPC auth through the node's cookie file (no user/password).
	cookie bool
	// net decodes addresses (btcd's decoder only knows Bitcoin's).
	net *params.Network
}

// credentials returns the RPC user and password: the harness's fixed pair,
// or the node's cookie (re-read at each call: it changes at each start).
func (n *node) credentials() (string, string) {
	if n.flavor == nil || !n.flavor.cookie {
		return rpcUser, rpcPass
	}
	b, err := os.ReadFile(n.CookiePath())
	if err != nil {
		return "", ""
	}
	u, p, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
	return u, p
}

// CookiePath is where a litecoind started WithCookieAuth writes its RPC
// cookie (empty for other nodes).
func (n *node) CookiePath() string {
	if n.flavor == nil || !n.flavor.cookie {
		return ""
	}
	return filepath.Join(n.dir, "data", "regtest", ".cookie")
}

// WithCookieAuth starts litecoind without -rpcuser/-rpcpassword: it writes a
// cookie file (CookiePath) that clients read.
func WithCookieAuth() Option { return func(c *config) { c.cookie = true } }

// WithBlockFilters starts litecoind with -blockfilterindex=1, so it serves
// BIP158 filters (getblockfilter).
func WithBlockFilters() Option { return WithArgs("-blockfilterindex=1") }

// LTCRegtest returns walletd's Litecoin regtest parameters, whose Chain the
// litecoind and ltcd harness nodes use for addresses.
func LTCRegtest(t TB) *params.Network {
	t.Helper()
	n, err := params.LTC("regtest")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return n
}

func findLitecoind(t TB) string {
	t.Helper()
	if p := os.Getenv(LitecoindEnv); p != "" {
		return p
	}
	// Debian's /usr/bin/litecoind is a wrapper that creates ~/.litecoin
	// whatever -datadir says; the real binary is beside it.
	if st, err := os.Stat("/usr/lib/litecoin/litecoind"); err == nil && !st.IsDir() {
		return "/usr/lib/litecoin/litecoind"
	}
	if p, err := exec.LookPath("litecoind"); err == nil {
		return p
	}
	t.Fatalf("harness: litecoind not found: install Debian's litecoind (scripts/deps.d/ltc.apt) or set %s", LitecoindEnv)
	return ""
}

// StartLitecoind starts a fresh Litecoin Core (Debian's litecoind) on
// regtest with -txindex, user/password RPC auth (or a cookie with
// WithCookieAuth), on free loopback ports, mining (generatetoaddress) to a
// key the harness holds; the chain survives Stop/Start. Options: WithArgs
// (e.g. WithBlockFilters), WithCookieAuth, WithStartTimeout. Regtest blocks
// from height 432 on carry MWEB data and need ActivateMWEB first.
func StartLitecoind(t TB, opts ...Option) *Node {
	t.Helper()
	cfg := config{startTimeout: defaultStartTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	net := LTCRegtest(t)
	fl := &flavor{binary: "litecoind", find: findLitecoind, args: litecoindArgs,
		generateToAddress: true, cookie: cfg.cookie, net: net}
	return launch(t, cfg, fl, net.Chain)
}

func litecoindArgs(n *Node) []string {
	data := filepath.Join(n.dir, "data")
	_ = os.MkdirAll(data, 0o755)
	a := []string{
		"-regtest",
		"-datadir=" + data,
		"-conf=/dev/null",
		"-bind=127.0.0.1:" + strconv.Itoa(n.p2pPort),
		"-rpcbind=127.0.0.1",
		"-rpcport=" + strconv.Itoa(n.rpcPort),
		"-rpcallowip=127.0.0.1",
		"-txindex=1",
		"-fallbackfee=0.0001",
		"-dnsseed=0",
		"-upnp=0",
		"-discover=0",
		"-listenonion=0",
		"-printtoconsole=1",
		"-debuglogfile=0",
		// The node wallet (FundNodeWallet) needs few keys; the default
		// pool of 1000 per type takes seconds of CPU to create.
		"-keypool=5",
	}
	if !n.cfg.cookie {
		a = append(a, "-rpcuser="+rpcUser, "-rpcpassword="+rpcPass)
	}
	return a
}

// StartLtcd starts a fresh ltcd (the btcd fork for Litecoin) on regtest with
// --txindex --addrindex and the websocket RPC, like StartBtcd. ltcd wipes its
// regtest chain at every start, and it does not activate MWEB on regtest.
func StartLtcd(t TB, opts ...Option) *Node {
	t.Helper()
	cfg := config{startTimeout: defaultStartTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	net := LTCRegtest(t)
	fl := &flavor{binary: "ltcd", args: ltcdArgs, net: net}
	return launch(t, cfg, fl, net.Chain)
}

func ltcdArgs(n *Node) []string {
	d := n.dir
	return []string{
		"--regtest",
		"--configfile=/dev/null",
		"--datadir=" + filepath.Join(d, "data"),
		"--logdir=" + filepath.Join(d, "logs"),
		"--listen=127.0.0.1:" + strconv.Itoa(n.p2pPort),
		"--rpclisten=127.0.0.1:" + strconv.Itoa(n.rpcPort),
		"--rpcuser=" + rpcUser,
		"--rpcpass=" + rpcPass,
		"--notls",
		"--nodnsseed",
		"--nostalldetect",
		"--txindex",
		"--addrindex",
		"--debuglevel=MINR=warn",
		// Tests and the load tool call the node from many goroutines at
		// once: btcd's default of 10 answered them "503 Too busy".
		"--rpcmaxclients=64",
		"--miningaddr=" + n.wallet.miningAddr.EncodeAddress(),
	}
}

// HTTPURL returns the node's JSON-RPC URL for walletd's Core backend:
// http://user:pass@127.0.0.1:port (https with btcd's WithTLS; without
// credentials for a cookie-auth litecoind).
func (n *Node) HTTPURL() string {
	u := url.URL{Scheme: "http", Host: n.RPCAddr(), Path: "/"}
	if n.flavor == nil || !n.flavor.cookie {
		u.User = url.UserPassword(rpcUser, rpcPass)
	}
	if n.cfg.tls {
		u.Scheme = "https"
	}
	return u.String()
}

// Chain returns the btcd chain parameters the node's addresses use.
func (n *Node) Chain() *chaincfg.Params { return n.params }

// nodeWallet is the name of the Core wallet the harness creates.
const nodeWallet = "harness"

// FundNodeWallet makes sure litecoind's own wallet exists and holds mature
// coins (mining 101 blocks to it the first time), for tests that pay from
// the node's wallet (sendtoaddress) and for ActivateMWEB.
func (n *Node) FundNodeWallet() {
	n.t.Helper()
	var wallets []string
	n.mustCall(&wallets, "listwallets")
	found := false
	for _, w := range wallets {
		found = found || w == nodeWallet
	}
	if !found {
		if err := n.call(nil, "loadwallet", nodeWallet); err != nil {
			n.mustCall(nil, "createwallet", nodeWallet)
		}
	}
	var bal json.Number
	n.mustCall(&bal, "getbalance")
	if sat, err := amount.Parse(bal.String()); err == nil && sat >= 10*1e8 {
		return
	}
	var addr string
	n.mustCall(&addr, "getnewaddress")
	n.mustCall(nil, "generatetoaddress", 101, addr)
}

// ActivateMWEB takes a litecoind regtest chain past MWEB activation (height
// 432): blocks from there on need an MWEB peg-in in the first MWEB block, so
// it mines to 431, sends 1 LTC from the node's wallet to an MWEB address of
// its own, and mines block 432 (which then carries a HogEx and an MWEB
// block) and one more. The chain must be below 432.
func (n *Node) ActivateMWEB() {
	n.t.Helper()
	n.FundNodeWallet()
	h := n.Height()
	if h >= 432 {
		n.t.Fatalf("harness: ActivateMWEB at height %d: MWEB must be activated at 432", h)
	}
	if h < 431 {
		n.Generate(int(431 - h))
	}
	var mweb string
	n.mustCall(&mweb, "getnewaddress", "", "mweb")
	n.mustCall(nil, "sendtoaddress", mweb, 1)
	n.Generate(2)
	var blk struct {
		MWEB *struct {
			Height int32 `json:"height"`
		} `json:"mweb"`
	}
	n.mustCall(&blk, "getblock", n.BlockHash(432).String(), 1)
	if blk.MWEB == nil || blk.MWEB.Height != 432 {
		n.t.Fatalf("harness: block 432 carries no MWEB block")
	}
}

// SendFromNodeWallet pays amount (coin units, e.g. "0.5") from litecoind's
// own wallet to addr and returns the txid.
func (n *Node) SendFromNodeWallet(addr, amt string) string {
	n.t.Helper()
	if _, err := amount.Parse(amt); err != nil {
		n.t.Fatalf("harness: amount %q: %v", amt, err)
	}
	var id string
	n.mustCall(&id, "sendtoaddress", addr, json.Number(amt))
	return id
}

// PegOutTo pays amount (coin units) to addr from the MWEB coins of
// litecoind's own wallet (its canonical coins locked meanwhile): an MWEB
// peg-out, an MWEB-only transaction in the mempool whose payment appears as
// an output of the next block's HogEx. ActivateMWEB gives the wallet MWEB
// coins. It returns the MWEB transaction's id (not the HogEx's).
func (n *Node) PegOutTo(addr, amt string) string {
	n.t.Helper()
	var utxos []struct {
		TxID    string `json:"txid"`
		Vout    int    `json:"vout"`
		Address string `json:"address"`
	}
	n.mustCall(&utxos, "listunspent", 1, 9999999)
	type op struct {
		TxID string `json:"txid"`
		Vout int    `json:"vout"`
	}
	var lock []op
	mwebCoins := 0
	for _, u := range utxos {
		if n.flavor != nil && n.flavor.net.IsMWEBAddress(u.Address) {
			mwebCoins++
		} else {
			lock = append(lock, op{u.TxID, u.Vout})
		}
	}
	if mwebCoins == 0 {
		n.t.Fatalf("harness: the node wallet has no MWEB coins (ActivateMWEB first)")
	}
	n.mustCall(nil, "lockunspent", false, lock)
	defer n.mustCall(nil, "lockunspent", true)
	return n.SendFromNodeWallet(addr, amt)
}

// Must calls a JSON-RPC method of the node (a Core wallet call goes to its
// loaded wallet) and decodes the result into out (nil: ignored), failing
// the test on error.
func (n *Node) Must(out any, method string, params ...any) {
	n.t.Helper()
	n.mustCall(out, method, params...)
}

// DeriveAddresses is Core's deriveaddresses for a descriptor (with its
// checksum added by getdescriptorinfo) over [from, to].
func (n *Node) DeriveAddresses(desc string, from, to int) []string {
	n.t.Helper()
	var info struct {
		Descriptor string `json:"descriptor"`
	}
	n.mustCall(&info, "getdescriptorinfo", desc)
	var out []string
	n.mustCall(&out, "deriveaddresses", info.Descriptor, []int{from, to})
	return out
}

// generateToAddress mines count blocks with Core's generatetoaddress. Core
// builds the same block again (same coinbase and mempool, and regtest block
// times are the median time past plus one, ahead of the clock) right after
// invalidateblock, and refuses it as a duplicate of the invalid one: the
// retry mines to a throwaway key instead, whose coinbase the harness just
// does not use.
func (n *Node) generateToAddress(count int) ([]string, error) {
	var res []string
	addr := n.wallet.miningAddr.EncodeAddress()
	for attempt := 0; ; attempt++ {
		err := n.call(&res, "generatetoaddress", count, addr)
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "block not accepted") {
			return res, err
		}
		key, kerr := btcec.NewPrivateKey()
		if kerr != nil {
			return nil, kerr
		}
		a, aerr := address.NewAddressPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), n.params)
		if aerr != nil {
			return nil, aerr
		}
		addr = a.EncodeAddress()
	}
}

// String names the node for messages.
func (n *Node) String() string {
	return fmt.Sprintf("%s at %s", filepath.Base(n.bin), n.RPCAddr())
}
