package harness

import (
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// waitTimeout bounds the harness's own waits (peering, sync).
const waitTimeout = 30 * time.Second

// WaitFor polls cond (every few milliseconds, backing off to 50ms) until it
// returns true, failing the test with what after timeout. It must be called
// from the test's goroutine.
func WaitFor(t interface {
	Helper()
	Fatalf(string, ...any)
}, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("harness: timed out after %v waiting for %s", timeout, what)
	}
}

func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for delay := 2 * time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(delay)
	}
}

type peerInfo struct {
	ID      int32  `json:"id"`
	Addr    string `json:"addr"`
	Inbound bool   `json:"inbound"`
}

func (n *Node) peers() ([]peerInfo, error) {
	var ps []peerInfo
	err := n.call(&ps, "getpeerinfo")
	return ps, err
}

// hasOutboundTo reports whether n has an outbound connection to other's
// listen address.
func (n *Node) hasOutboundTo(other *Node) bool {
	ps, err := n.peers()
	if err != nil {
		return false
	}
	for _, p := range ps {
		if !p.Inbound && p.Addr == other.P2PAddr() {
			return true
		}
	}
	return false
}

func (n *Node) inboundCount() int {
	ps, err := n.peers()
	if err != nil {
		return -1
	}
	c := 0
	for _, p := range ps {
		if p.Inbound {
			c++
		}
	}
	return c
}

// ConnectPeer makes n connect to other over P2P and waits until both sides
// see the connection. The nodes then exchange blocks: the one with less work
// reorganises onto the other's chain (use WaitSynced to wait for that).
func (n *Node) ConnectPeer(other *Node) {
	n.t.Helper()
	before := other.inboundCount()
	n.mustCall(nil, "node", "connect", other.P2PAddr(), "temp")
	WaitFor(n.t, waitTimeout, fmt.Sprintf("P2P connection %s -> %s", n.P2PAddr(), other.P2PAddr()), func() bool {
		return n.hasOutboundTo(other) && other.inboundCount() > before
	})
}

// Disconnect drops the P2P connections between n and other (either
// direction) and waits until n no longer has an outbound connection to
// other.
func (n *Node) Disconnect(other *Node) {
	n.t.Helper()
	if n.hasOutboundTo(other) {
		n.mustCall(nil, "node", "disconnect", other.P2PAddr())
	}
	if other.hasOutboundTo(n) {
		other.mustCall(nil, "node", "disconnect", n.P2PAddr())
	}
	WaitFor(n.t, waitTimeout, "P2P disconnection", func() bool {
		return !n.hasOutboundTo(other) && !other.hasOutboundTo(n)
	})
}

// WaitSynced waits until every node in others has the same best block as n.
func (n *Node) WaitSynced(others ...*Node) {
	n.t.Helper()
	WaitFor(n.t, waitTimeout, "nodes to agree on the best block", func() bool {
		want, err := n.bestHash()
		if err != nil {
			return false
		}
		for _, o := range others {
			got, err := o.bestHash()
			if err != nil || got != want {
				return false
			}
		}
		return true
	})
}

// WaitForHeight waits until the node's best height is at least h.
func (n *Node) WaitForHeight(h int32) {
	n.t.Helper()
	WaitFor(n.t, waitTimeout, fmt.Sprintf("height %d", h), func() bool {
		got, err := n.height()
		return err == nil && got >= h
	})
}

func (n *Node) bestHash() (chainhash.Hash, error) {
	var s string
	if err := n.call(&s, "getbestblockhash"); err != nil {
		return chainhash.Hash{}, err
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// InvalidateBlock marks the block and its descendants invalid (btcd's
// invalidateblock): the node disconnects them and falls back to the best
// valid chain, which is a one-node way to cause a reorg. Mining afterwards
// builds a competing branch.
func (n *Node) InvalidateBlock(hash chainhash.Hash) {
	n.t.Helper()
	n.mustCall(nil, "invalidateblock", hash.String())
}

// ReconsiderBlock undoes InvalidateBlock; the node switches back to that
// branch if it has the most work.
func (n *Node) ReconsiderBlock(hash chainhash.Hash) {
	n.t.Helper()
	n.mustCall(nil, "reconsiderblock", hash.String())
}
