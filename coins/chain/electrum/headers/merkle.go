package headers

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// maxMerkleDepth bounds a merkle branch: 2^32 transactions would not fit
// in any block.
const maxMerkleDepth = 32

// MerkleRoot folds txid with its merkle branch (siblings from the leaf up,
// as blockchain.transaction.get_merkle gives them) at position pos in the
// block. It refuses a position that does not fit the branch, and a proof
// whose inner node is itself a valid 64-byte transaction (the leaf/node
// ambiguity of Bitcoin's merkle tree, which would let a server prove a
// fake txid).
func MerkleRoot(txid chainhash.Hash, branch []chainhash.Hash, pos int) (chainhash.Hash, error) {
	if len(branch) > maxMerkleDepth || pos < 0 || pos>>len(branch) != 0 {
		return chainhash.Hash{}, fmt.Errorf("%w: merkle position %d does not fit a branch of %d", ErrInvalid, pos, len(branch))
	}
	h := txid
	var pair [64]byte
	for i, sib := range branch {
		if (pos>>i)&1 == 1 {
			copy(pair[:32], sib[:])
			copy(pair[32:], h[:])
		} else {
			copy(pair[:32], h[:])
			copy(pair[32:], sib[:])
		}
		if isTx(pair[:]) {
			return chainhash.Hash{}, fmt.Errorf("%w: inner merkle node %d is a valid transaction", ErrInvalid, i)
		}
		h = chainhash.DoubleHashH(pair[:])
	}
	return h, nil
}

// VerifyMerkle checks that txid is at pos in the block whose header is hdr.
func VerifyMerkle(txid chainhash.Hash, branch []chainhash.Hash, pos int, hdr *wire.BlockHeader) error {
	root, err := MerkleRoot(txid, branch, pos)
	if err != nil {
		return err
	}
	if root != hdr.MerkleRoot {
		return fmt.Errorf("%w: merkle proof of %v does not match block %v", ErrInvalid, txid, hdr.BlockHash())
	}
	return nil
}

// isTx reports whether b parses as exactly one transaction (without
// witness), consuming every byte.
func isTx(b []byte) bool {
	var tx wire.MsgTx
	r := bytes.NewReader(b)
	if err := tx.DeserializeNoWitness(r); err != nil {
		return false
	}
	return r.Len() == 0 && len(tx.TxIn) > 0 && len(tx.TxOut) > 0
}
