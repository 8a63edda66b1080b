package electrum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
)

var (
	_ chain.MerkleBrancher = (*Backend)(nil)
	_ chain.ServerLister   = (*Backend)(nil)
)

// minPeerVersion is Electrum 4.6's PROTOCOL_VERSION filter on announced
// peers (filter_version): older servers are left out.
var minPeerVersion = []int{1, 4}

// MerkleBranch asks the server for txid's branch in the block at height
// (blockchain.transaction.get_merkle) and checks it against the verified
// header: a branch that does not lead to the header's merkle root is a lie
// (the server is dropped); a server that says the transaction is not in
// that block, or a height above the verified chain, is chain.ErrNotFound.
func (b *Backend) MerkleBranch(ctx context.Context, txid chainhash.Hash, height int32) (chain.MerkleBranch, error) {
	l, err := b.readyLink()
	if err != nil {
		return chain.MerkleBranch{}, err
	}
	if height < 0 || height > b.hc.Height() {
		return chain.MerkleBranch{}, fmt.Errorf("%w: no block at height %d in the verified chain", chain.ErrNotFound, height)
	}
	var mp merkleProof
	if err := l.call(ctx, l.any(), &mp, "blockchain.transaction.get_merkle", txid.String(), height); err != nil {
		var rpcErr *rpc.Error
		if errors.As(err, &rpcErr) {
			return chain.MerkleBranch{}, fmt.Errorf("%w: transaction %v in block %d: the server says %q", chain.ErrNotFound, txid, height, shortMsg(rpcErr.Message))
		}
		return chain.MerkleBranch{}, b.callErr(l, err)
	}
	if mp.BlockHeight != height {
		return chain.MerkleBranch{}, b.callErr(l, lie("get_merkle of %v: block %d asked, %d given", txid, height, mp.BlockHeight))
	}
	out := chain.MerkleBranch{BlockHeight: mp.BlockHeight, Pos: mp.Pos, Merkle: make([]chainhash.Hash, len(mp.Merkle))}
	for i, s := range mp.Merkle {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil || len(s) != 64 {
			return chain.MerkleBranch{}, b.callErr(l, lie("get_merkle: bad hash %q", shortMsg(s)))
		}
		out.Merkle[i] = *h
	}
	hdr, err := b.headerAt(ctx, l, height)
	if err != nil {
		return chain.MerkleBranch{}, err
	}
	if err := headers.VerifyMerkle(txid, out.Merkle, mp.Pos, &hdr); err != nil {
		return chain.MerkleBranch{}, b.callErr(l, lie("get_merkle of %v: %v", txid, err))
	}
	return out, nil
}

// shortMsg bounds a server's text quoted in an error.
func shortMsg(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// KnownServers lists the current server's announced peers
// (server.peers.subscribe, parsed and filtered as Electrum's parse_servers
// and filter_version do; none while disconnected), then the configured
// servers.
func (b *Backend) KnownServers(ctx context.Context) ([]chain.KnownServer, error) {
	var out []chain.KnownServer
	index := map[string]int{}
	if l, err := b.readyLink(); err == nil {
		var peers []json.RawMessage
		if err := l.call(ctx, l.any(), &peers, "server.peers.subscribe"); err != nil {
			var rpcErr *rpc.Error
			if !errors.As(err, &rpcErr) {
				return nil, b.callErr(l, err)
			}
		}
		for _, raw := range peers {
			if p, ok := parsePeer(raw); ok {
				if _, dup := index[p.Host]; !dup {
					index[p.Host] = len(out)
					out = append(out, p)
				}
			}
		}
	}
	for _, s := range b.cfg.Servers {
		i, ok := index[s.Host]
		if !ok {
			i = len(out)
			index[s.Host] = i
			out = append(out, chain.KnownServer{Host: s.Host})
		}
		if s.TLS {
			out[i].SSLPort = s.Port
		} else {
			out[i].TCPPort = s.Port
		}
	}
	return out, nil
}

// parsePeer reads one [ip, host, [features]] entry of server.peers.subscribe:
// features s<port>, t<port> (empty: the default port), v<version>,
// p<pruning>. Entries without a port, with a bad one, or older than
// minPeerVersion are dropped.
func parsePeer(raw json.RawMessage) (chain.KnownServer, bool) {
	var item []json.RawMessage
	if json.Unmarshal(raw, &item) != nil || len(item) < 2 {
		return chain.KnownServer{}, false
	}
	var p chain.KnownServer
	if json.Unmarshal(item[1], &p.Host) != nil || p.Host == "" || len(p.Host) > 255 {
		return chain.KnownServer{}, false
	}
	var features []string
	if len(item) > 2 {
		_ = json.Unmarshal(item[2], &features)
	}
	p.Pruning = "-"
	for _, f := range features {
		if f == "" {
			continue
		}
		switch f[0] {
		case 's', 't':
			port := 50001
			if f[0] == 's' {
				port = 50002
			}
			if f[1:] != "" {
				n, err := strconv.Atoi(f[1:])
				if err != nil || n < 1 || n > 65535 {
					return chain.KnownServer{}, false
				}
				port = n
			}
			if f[0] == 's' {
				p.SSLPort = port
			} else {
				p.TCPPort = port
			}
		case 'v':
			p.Version = f[1:]
		case 'p':
			if p.Pruning = f[1:]; p.Pruning == "" {
				p.Pruning = "0"
			}
		}
	}
	if p.SSLPort == 0 && p.TCPPort == 0 || !recentVersion(p.Version) {
		return chain.KnownServer{}, false
	}
	return p, true
}

// recentVersion is Electrum's is_recent: version >= minPeerVersion.
func recentVersion(v string) bool {
	if v == "" {
		return false
	}
	parts := strings.Split(v, ".")
	for i, want := range minPeerVersion {
		if i >= len(parts) {
			return false
		}
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return false
		}
		if n != want {
			return n > want
		}
	}
	return true
}
