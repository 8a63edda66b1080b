package harness

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/params"
)

// This file starts bchd (Bitcoin Cash) nodes. BCHNode shares Node's process
// state and its chain-level RPC helpers (the *node inside, used through a
// Node view); what differs is bchd's flags and the funding wallet, which
// signs with coins/bch (SIGHASH_FORKID). The family refactor can make bchd a
// flavor of Node once Node's wallet signs through a per-coin signer
// (docs/family.md).

// bchCoinbaseMaturity is Bitcoin Cash's coinbase maturity on regtest.
const bchCoinbaseMaturity = 100

// BCHNode is one running (or stopped) bchd process on regtest, started with
// --regtestnoreset so that its chain survives Restart. It mines to a P2PKH
// key the harness holds in memory and funds test scripts by spending its
// coinbases with coins/bch's signer. Its methods fail the test on error and
// must be called from the test's goroutine (use For in a subtest); the ones
// returning an error may be called from any goroutine.
//
// bchd on regtest has CashTokens inactive (its Upgrade9ForkHeight is 10^8),
// so token outputs cannot be made on it.
type BCHNode struct {
	t TB
	*bchNode
}

type bchNode struct {
	*node // process, ports, log, HTTP client (params and wallet unused)

	net          *params.Network
	key          *btcec.PrivateKey
	miningScript []byte
	miningAddr   string

	// spent holds the coinbases the harness spent since the node last
	// started (the mempool does not survive a restart; the chain says
	// which confirmed ones are spent); next is the lowest coinbase height
	// not yet known to be spent.
	fundMu sync.Mutex
	spent  map[chainhash.Hash]bool
	next   int32
}

// view returns a Node over the same process for Node's generic RPC helpers
// (Call, Generate, Height, SendRaw, …), failing t on error. Node's wallet
// and start methods must not be called on it: they sign as Bitcoin and pass
// btcd's flags.
func (n *bchNode) view(t TB) *Node { return &Node{t: t, node: n.node} }

// StartBchd starts a fresh bchd on regtest (--regtestnoreset) with
// --txindex --addrindex, RPC user/password auth without TLS, on free
// loopback ports, mining to a key the harness holds. It returns once the
// RPC server answers. WithArgs and WithStartTimeout apply; WithSimnet and
// WithTLS are refused (regtest keeps its chain here, and loopback needs no
// TLS). The node is stopped, and its folder removed, when the test ends.
func StartBchd(t TB, opts ...Option) *BCHNode {
	t.Helper()
	cfg := config{startTimeout: defaultStartTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.simnet || cfg.tls {
		t.Fatalf("harness: StartBchd runs regtest without TLS only")
	}
	net, err := params.BCH("regtest")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatalf("harness: new key: %v", err)
	}
	_, script, err := net.PubKeyAddress(params.P2PKH, key.PubKey().SerializeCompressed())
	if err != nil {
		t.Fatalf("harness: mining address: %v", err)
	}
	addr, err := net.CashAddr().Encode(script) // bchd's --miningaddr, with its prefix
	if err != nil {
		t.Fatalf("harness: mining address: %v", err)
	}
	n := &BCHNode{t: t, bchNode: &bchNode{
		node: &node{owner: t, cfg: cfg, bin: binary(t, "bchd"), dir: t.TempDir()},
		net:  net, key: key, miningScript: script, miningAddr: addr,
		spent: map[chainhash.Hash]bool{}, next: 1,
	}}
	t.Cleanup(n.cleanup)
	for attempt := 1; ; attempt++ {
		rpcPort, p2pPort, err := freePorts()
		if err != nil {
			t.Fatalf("harness: pick ports: %v", err)
		}
		n.rpcPort, n.p2pPort = rpcPort, p2pPort
		err = n.start()
		if err == nil {
			return n
		}
		if errors.Is(err, errAddrInUse) && attempt < startAttempts {
			continue
		}
		t.Fatalf("harness: start bchd: %v\n%s", err, n.logTail())
	}
}

func (n *bchNode) args() []string {
	d := n.dir
	a := []string{
		"--regtest",
		"--regtestnoreset",
		"--configfile=/dev/null",
		"--datadir=" + filepath.Join(d, "data"),
		"--logdir=" + filepath.Join(d, "logs"),
		"--listen=127.0.0.1:" + strconv.Itoa(n.p2pPort),
		"--rpclisten=127.0.0.1:" + strconv.Itoa(n.rpcPort),
		"--notls",
		"--rpcuser=" + rpcUser,
		"--rpcpass=" + rpcPass,
		"--nodnsseed",
		"--txindex",
		"--addrindex",
		"--utxocachemaxsize=8",
		// Tests and the load tool call the node from many goroutines at
		// once: btcd's default of 10 answered them "503 Too busy".
		"--rpcmaxclients=64",
		"--debuglevel=MINR=warn",
		"--miningaddr=" + n.miningAddr,
	}
	return append(a, n.cfg.args...)
}

// start launches the process and waits until RPC answers (Node.waitReady).
func (n *bchNode) start() error {
	lf, err := os.OpenFile(filepath.Join(n.dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var offset int64
	if st, err := lf.Stat(); err == nil {
		offset = st.Size()
	}
	fmt.Fprintf(lf, "=== harness: starting %s %s\n", n.bin, strings.Join(n.args(), " "))
	cmd := exec.Command(n.bin, n.args()...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "HOME="+n.dir) // bchd creates ~/.bchd regardless
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return err
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.logFile, n.exitErr = cmd, exited, lf, nil
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.exitErr = err
		n.mu.Unlock()
		close(exited)
	}()
	if err := n.view(n.owner).waitReady(exited); err != nil {
		n.stopProcess()
		if strings.Contains(n.logSince(offset), "address already in use") {
			return fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return err
	}
	n.fundMu.Lock()
	n.spent, n.next = map[chainhash.Hash]bool{}, 1
	n.fundMu.Unlock()
	return nil
}

// For returns a view of the node that fails t instead of the test that
// started it: use it in subtests.
func (n *BCHNode) For(t TB) *BCHNode { return &BCHNode{t: t, bchNode: n.bchNode} }

// Stop stops the node (SIGINT, then SIGKILL after 15s) and waits for it to
// exit. Its data folder is kept for Start.
func (n *BCHNode) Stop() { n.stopProcess() }

// Start starts a stopped node again with the same folder and ports; its
// chain survives (--regtestnoreset), its mempool does not. A no-op on a
// running node.
func (n *BCHNode) Start() {
	n.t.Helper()
	if n.running() {
		return
	}
	if err := n.start(); err != nil {
		n.t.Fatalf("harness: start bchd: %v\n%s", err, n.logTail())
	}
}

// Restart is Stop then Start.
func (n *BCHNode) Restart() {
	n.t.Helper()
	n.stopProcess()
	n.Start()
}

// Running reports whether the process is up.
func (n *BCHNode) Running() bool { return n.running() }

// Network returns the BCH regtest parameters (cashaddr prefix "bchreg").
func (n *BCHNode) Network() *params.Network { return n.net }

// Dir returns the node's folder (data, logs, node.log).
func (n *BCHNode) Dir() string { return n.dir }

// RPCAddr returns the RPC listen address, host:port.
func (n *BCHNode) RPCAddr() string { return n.view(n.t).RPCAddr() }

// P2PAddr returns the peer-to-peer listen address, host:port.
func (n *BCHNode) P2PAddr() string { return n.view(n.t).P2PAddr() }

// WSURL returns the websocket RPC URL with credentials,
// ws://user:pass@127.0.0.1:port, the form BCH_SERVER takes.
func (n *BCHNode) WSURL() string { return n.view(n.t).WSURL() }

// MiningAddress returns the cashaddr the node mines to, with its prefix.
func (n *BCHNode) MiningAddress() string { return n.miningAddr }

// Call performs one JSON-RPC call and returns the raw result; node errors
// are *RPCError. Safe from any goroutine.
func (n *BCHNode) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	return n.view(n.t).Call(ctx, method, params...)
}

// Generate mines count blocks to the mining address and returns their
// hashes.
func (n *BCHNode) Generate(count int) []chainhash.Hash {
	n.t.Helper()
	return n.view(n.t).Generate(count)
}

// Height returns the best block height.
func (n *BCHNode) Height() int32 {
	n.t.Helper()
	return n.view(n.t).Height()
}

// SendRaw submits tx with sendrawtransaction and returns its txid; the
// node's refusal is an *RPCError. Safe from any goroutine.
func (n *BCHNode) SendRaw(tx *wire.MsgTx) (chainhash.Hash, error) { return n.view(n.t).SendRaw(tx) }

// RawTransaction returns a transaction the node knows (mempool or, with
// --txindex, chain) and its confirmations (0 in the mempool).
func (n *bchNode) RawTransaction(txid chainhash.Hash) (*wire.MsgTx, int64, error) {
	var res struct {
		Hex           string `json:"hex"`
		Confirmations int64  `json:"confirmations"`
	}
	if err := n.view(n.owner).call(&res, "getrawtransaction", txid.String(), 1); err != nil {
		return nil, 0, err
	}
	raw, err := hex.DecodeString(res.Hex)
	if err != nil {
		return nil, 0, err
	}
	tx := &wire.MsgTx{}
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, 0, err
	}
	return tx, res.Confirmations, nil
}

// Confirmations returns the confirmations of a transaction the node knows
// (0 in the mempool), failing the test when it knows none.
func (n *BCHNode) Confirmations(txid chainhash.Hash) int64 {
	n.t.Helper()
	_, c, err := n.RawTransaction(txid)
	if err != nil {
		n.t.Fatalf("harness: %v", err)
	}
	return c
}

// FundScript sends amount satoshis to pkScript from one of the node's
// mature coinbases (mining 101 blocks first when none is mature), change
// back to the mining key, fee at 1 sat/byte; the transaction is signed with
// coins/bch's Signer (Schnorr, SIGHASH_ALL|FORKID) and left in the mempool.
// It returns the funded outpoint (output 0) and the transaction.
func (n *BCHNode) FundScript(pkScript []byte, amount int64) (wire.OutPoint, *wire.MsgTx) {
	n.t.Helper()
	tx, err := n.fundTx(pkScript, amount)
	if err != nil {
		n.t.Fatalf("harness: fund: %v", err)
	}
	return wire.OutPoint{Hash: tx.TxHash(), Index: 0}, tx
}

// Fund is FundScript for an address (cashaddr, with or without prefix, or
// legacy), returning the txid.
func (n *BCHNode) Fund(addr string, amount int64) chainhash.Hash {
	n.t.Helper()
	script, err := n.net.PkScript(addr)
	if err != nil {
		n.t.Fatalf("harness: fund %s: %v", addr, err)
	}
	op, _ := n.FundScript(script, amount)
	return op.Hash
}

func (n *bchNode) fundTx(pkScript []byte, amount int64) (*wire.MsgTx, error) {
	n.fundMu.Lock()
	defer n.fundMu.Unlock()
	op, prev, err := n.nextCoinbase()
	if err != nil {
		return nil, err
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(amount, pkScript))
	tx.AddTxOut(wire.NewTxOut(0, n.miningScript))
	signer := bch.Signer{}
	fee := bch.FeeForSize(bch.DefaultFeePerKB, signer.EstimateSize(tx, []*wire.TxOut{prev}, nil))
	change := prev.Value - amount - fee
	switch {
	case change < 0:
		return nil, fmt.Errorf("a coinbase of %d sat cannot pay %d", prev.Value, amount)
	case change < bch.DustThreshold:
		tx.TxOut = tx.TxOut[:1]
	default:
		tx.TxOut[1].Value = change
	}
	if err := signer.SignInputs(tx, []*wire.TxOut{prev}, []*btcec.PrivateKey{n.key}); err != nil {
		return nil, err
	}
	if _, err := n.view(n.owner).SendRaw(tx); err != nil {
		return nil, err
	}
	n.spent[op.Hash] = true
	return tx, nil
}

// nextCoinbase returns a mature coinbase output of the mining key that is
// unspent on chain and not spent by the harness since the node started,
// mining 101 blocks when there is none.
func (n *bchNode) nextCoinbase() (wire.OutPoint, *wire.TxOut, error) {
	for mined := false; ; mined = true {
		var tip int32
		if err := n.view(n.owner).call(&tip, "getblockcount"); err != nil {
			return wire.OutPoint{}, nil, err
		}
		for ; n.next <= tip-bchCoinbaseMaturity; n.next++ {
			var hash string
			if err := n.view(n.owner).call(&hash, "getblockhash", n.next); err != nil {
				return wire.OutPoint{}, nil, err
			}
			var blk struct {
				Tx []string `json:"tx"`
			}
			if err := n.view(n.owner).call(&blk, "getblock", hash, true); err != nil {
				return wire.OutPoint{}, nil, err
			}
			if len(blk.Tx) == 0 {
				continue
			}
			txid, err := chainhash.NewHashFromStr(blk.Tx[0])
			if err != nil || n.spent[*txid] {
				continue
			}
			var out json.RawMessage
			if err := n.view(n.owner).call(&out, "gettxout", txid.String(), 0, false); err != nil {
				return wire.OutPoint{}, nil, err
			}
			if string(out) == "null" { // spent on chain
				continue
			}
			ctx, _, err := n.RawTransaction(*txid)
			if err != nil {
				return wire.OutPoint{}, nil, err
			}
			if len(ctx.TxOut) == 0 || !bytes.Equal(ctx.TxOut[0].PkScript, n.miningScript) {
				continue // mined before this harness key (another test's chain)
			}
			n.next++
			return wire.OutPoint{Hash: *txid, Index: 0}, ctx.TxOut[0], nil
		}
		if mined {
			return wire.OutPoint{}, nil, errors.New("no mature coinbase after mining")
		}
		need := n.next + bchCoinbaseMaturity - tip
		if need < 1 {
			need = 1
		}
		var res []string
		if err := n.view(n.owner).call(&res, "generate", need); err != nil {
			return wire.OutPoint{}, nil, err
		}
	}
}

// NewKey returns a fresh private key and the P2PKH script and cashaddr of
// its public key (compressed unless uncompressed is set; the cashaddr
// without its prefix, as walletd prints it), for tests that spend what they
// fund.
func (n *BCHNode) NewKey(uncompressed bool) (*btcec.PrivateKey, []byte, string) {
	n.t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		n.t.Fatalf("harness: new key: %v", err)
	}
	pub := key.PubKey().SerializeCompressed()
	if uncompressed {
		pub = key.PubKey().SerializeUncompressed()
	}
	addr, script, err := n.net.PubKeyAddress(params.P2PKH, pub)
	if err != nil || !bytes.Equal(script[3:23], address.Hash160(pub)) {
		n.t.Fatalf("harness: address: %v", err)
	}
	return key, script, addr
}

// InvalidateBlock marks a block and its descendants invalid (bchd's
// invalidateblock): the node falls back to the best valid chain, a
// one-node reorg. Mining afterwards builds a competing branch.
func (n *BCHNode) InvalidateBlock(hash chainhash.Hash) {
	n.t.Helper()
	n.view(n.t).InvalidateBlock(hash)
}

// InMempool reports whether txid is in the node's mempool.
func (n *BCHNode) InMempool(txid chainhash.Hash) bool {
	n.t.Helper()
	return n.view(n.t).InMempool(txid)
}
