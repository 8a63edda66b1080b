package utxo

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// networkMethods declares Electrum's network commands that only an
// Electrum-protocol backend can answer: getservers and getmerkle. On a node
// backend (btcd, ltcd, Bitcoin Core) they fail with BackendUnsupportedError
// (-32016, catalogued).
func (d *Daemon) networkMethods(b *base.Builder) {
	b.Add(base.NewMethod("getservers", "getservers(): the Electrum servers known (candidates for connecting): the current server's announced peers (protocol 1.4 or newer) and the configured servers, as {host: {s, t, pruning, version}} like Electrum. Only with the Electrum-protocol backend (<COIN>_SERVER); a node backend answers BackendUnsupportedError (-32016).", d.getservers))
	b.Add(base.NewMethod("getmerkle", "getmerkle(txid, height): the merkle branch of a confirmed transaction in the block at height, {block_height, merkle, pos}, checked against the verified header. Only with the Electrum-protocol backend (<COIN>_SERVER); a node backend answers BackendUnsupportedError (-32016).", d.getmerkle))
}

// errBackendUnsupported is a command the chain backend cannot serve.
var errBackendUnsupported = fmt.Errorf("not served by this chain backend")

// unsupportedBy names the command and what would serve it.
func (d *Daemon) unsupportedBy(method string) error {
	return fmt.Errorf("%w: %s needs the Electrum-protocol backend (%s_SERVER); this daemon reads its chain from a node",
		errBackendUnsupported, method, d.coin.Ticker)
}

func (d *Daemon) getservers(ctx context.Context, _ *base.Call, _ base.NoArgs) (any, error) {
	l, ok := d.backend.(chain.ServerLister)
	if !ok {
		return nil, d.unsupportedBy("getservers")
	}
	list, err := l.KnownServers(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	for _, s := range list {
		e := map[string]any{}
		if s.SSLPort != 0 {
			e["s"] = strconv.Itoa(s.SSLPort)
		}
		if s.TCPPort != 0 {
			e["t"] = strconv.Itoa(s.TCPPort)
		}
		if s.Pruning != "" {
			e["pruning"] = s.Pruning
		}
		if s.Version != "" {
			e["version"] = s.Version
		}
		out[s.Host] = e
	}
	return out, nil
}

type getMerkleArgs struct {
	TxID   string `rpc:"txid,required"`
	Height int64  `rpc:"height,required"`
}

// merkleJSON is getmerkle's reply, the server's get_merkle result.
type merkleJSON struct {
	BlockHeight int32    `json:"block_height"`
	Merkle      []string `json:"merkle"`
	Pos         int      `json:"pos"`
}

func (d *Daemon) getmerkle(ctx context.Context, _ *base.Call, a getMerkleArgs) (any, error) {
	id, err := parseTxid(a.TxID)
	if err != nil {
		return nil, err
	}
	if a.Height < 0 || a.Height > math.MaxInt32 {
		return nil, base.Errorf(spec.InvalidParams, "%d is not a block height", a.Height)
	}
	m, ok := d.backend.(chain.MerkleBrancher)
	if !ok {
		return nil, d.unsupportedBy("getmerkle")
	}
	br, err := m.MerkleBranch(ctx, id, int32(a.Height))
	if err != nil {
		return nil, err
	}
	out := merkleJSON{BlockHeight: br.BlockHeight, Pos: br.Pos, Merkle: make([]string, len(br.Merkle))}
	for i, h := range br.Merkle {
		out.Merkle[i] = h.String()
	}
	return out, nil
}
