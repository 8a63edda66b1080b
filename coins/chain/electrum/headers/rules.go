// Package headers verifies a coin's chain of block headers the way an SPV
// client must (Electrum's blockchain.py and verifier.py are the model):
// every header links to its parent, carries the bits the coin's difficulty
// rules demand (btcd's consensus code computes them: retargeting, testnet's
// minimum-difficulty blocks, regtest's fixed target, median time past), and
// hashes below its target with the coin's proof-of-work function (sha256d
// for Bitcoin, scrypt for Litecoin, as coins/params computes them). The
// chain starts at a trusted anchor: the genesis block, the last of the
// built-in checkpoints (Electrum's list of every 2016th block hash), or a
// snapshot of a chain verified before (Snapshot, Restore). Merkle proofs of
// transactions are checked against the headers of this chain.
//
// The package does no I/O: the caller fetches headers and hands them in,
// and stores snapshots where it likes.
package headers

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
)

// Sentinel errors. ErrInvalid marks a header (or proof) that no honest
// server can send: the caller should drop the server that sent it.
var (
	// ErrInvalid: bad proof of work, wrong bits, a broken link inside one
	// contiguous batch, a fork below the anchor, a wrong genesis or
	// checkpoint, a merkle proof that does not match the header.
	ErrInvalid = errors.New("headers: invalid")
	// ErrDisconnected: the headers do not attach to the verified chain at
	// the height claimed (the server's chain moved meanwhile, or the
	// caller must look further back for the fork point).
	ErrDisconnected = errors.New("headers: does not connect")
	// ErrUnknownHeight: the height is above the verified tip, or below
	// the retained window (fetch and verify its chunk with OldChunk).
	ErrUnknownHeight = errors.New("headers: height not in the verified chain")
)

// ChunkSize is the number of headers in a retarget period, the unit in
// which Electrum servers serve headers and Electrum lists checkpoints.
const ChunkSize = 2016

// PowFunc returns the proof-of-work hash of a header (compared with the
// target as a little-endian number, like a block hash).
type PowFunc func(h *wire.BlockHeader) chainhash.Hash

// PowOf returns the proof-of-work hash of net's headers, as
// params.Network.PoWHash computes it over the 80-byte header (sha256d, the
// block hash, for Bitcoin; scrypt for Litecoin).
func PowOf(net *params.Network) PowFunc {
	return func(h *wire.BlockHeader) chainhash.Hash {
		var buf bytes.Buffer
		buf.Grow(wire.MaxBlockHeaderPayload)
		_ = h.Serialize(&buf)
		return net.PoWHash(buf.Bytes())
	}
}

// Checkpoint is a block the chain must contain.
type Checkpoint struct {
	Height int32
	Hash   chainhash.Hash
}

// Rules are what a light client checks of one coin's network.
type Rules struct {
	// Name names the network in errors ("BTC mainnet").
	Name string
	// Net is the coin's network the rules are for.
	Net *params.Network
	// Params are the network's consensus parameters (Net.Chain: genesis,
	// proof-of-work limit, retarget interval and timespan, testnet and
	// regtest rules, soft-fork heights for the header version checks).
	Params *chaincfg.Params
	// Pow is the proof-of-work hash (PowOf(Net)).
	Pow PowFunc
	// FullPeriodRetarget is Litecoin's retarget: the timespan is measured
	// over the full interval (back to the last block of the previous
	// period) except for the first retarget, closing Bitcoin's
	// off-by-one "time warp".
	FullPeriodRetarget bool
	// Checkpoints are the hashes of the last block of every retarget
	// period from the first, in order (Electrum's checkpoints.json): entry
	// i is the block at height (i+1)*ChunkSize-1. The last one anchors the
	// verified chain; the others verify old headers by their chunk. Empty
	// means the chain is verified from genesis.
	Checkpoints []chainhash.Hash
}

//go:embed checkpoints/*.txt
var checkpointFiles embed.FS

// ForNetwork returns the rules of a coin's network (params.BTC or
// params.LTC; its Chain carries the consensus parameters, its PoWHash the
// proof of work). Networks with Electrum checkpoints (BTC mainnet, testnet,
// signet; LTC mainnet, testnet) get them; the others start at genesis.
// Other coins are an error: their difficulty rules are not implemented.
func ForNetwork(net *params.Network) (*Rules, error) {
	if net == nil || net.Chain == nil || net.Chain.GenesisHash == nil || net.Chain.PowLimit == nil {
		return nil, errors.New("headers: incomplete chain parameters")
	}
	r := &Rules{Name: net.String(), Net: net, Params: net.Chain, Pow: PowOf(net)}
	switch net.Coin {
	case "BTC":
	case "LTC":
		r.FullPeriodRetarget = true
	default:
		return nil, fmt.Errorf("headers: no header rules for coin %q", net.Coin)
	}
	file := strings.ToLower(net.Coin) + "-" + net.Name + ".txt"
	raw, err := checkpointFiles.ReadFile("checkpoints/" + file)
	if err == nil {
		if r.Checkpoints, err = parseCheckpoints(raw); err != nil {
			return nil, fmt.Errorf("headers: %s: %w", file, err)
		}
	}
	return r, nil
}

func parseCheckpoints(raw []byte) ([]chainhash.Hash, error) {
	var out []chainhash.Hash
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		h, err := chainhash.NewHashFromStr(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", len(out)+1, err)
		}
		out = append(out, *h)
	}
	return out, sc.Err()
}

// Anchor returns the checkpoint the verified chain starts from: the last
// listed checkpoint, or genesis.
func (r *Rules) Anchor() Checkpoint {
	if n := len(r.Checkpoints); n > 0 {
		return Checkpoint{Height: int32(n*ChunkSize - 1), Hash: r.Checkpoints[n-1]}
	}
	return Checkpoint{Height: 0, Hash: *r.Params.GenesisHash}
}

// interval is the number of blocks per retarget period.
func (r *Rules) interval() int32 {
	return int32(r.Params.TargetTimespan / r.Params.TargetTimePerBlock)
}

// checkPow checks that h's target is within the network's limit and that
// its proof-of-work hash is below the target.
func (r *Rules) checkPow(h *wire.BlockHeader, pow chainhash.Hash) error {
	target := blockchain.CompactToBig(h.Bits)
	if target.Sign() <= 0 || target.Cmp(r.Params.PowLimit) > 0 {
		return fmt.Errorf("%w: target %08x out of range", ErrInvalid, h.Bits)
	}
	if blockchain.HashToBig(&pow).Cmp(target) > 0 {
		return fmt.Errorf("%w: insufficient proof of work for block %v", ErrInvalid, h.BlockHash())
	}
	return nil
}

// Work returns the expected number of hashes a header of bits represents.
func Work(bits uint32) *big.Int { return blockchain.CalcWork(bits) }
