// Package ltcwire decodes raw transactions and blocks of Bitcoin and of
// Litecoin, whose serialization may carry MWEB (Mimblewimble extension block)
// data, into btcd's wire types holding their canonical part only.
//
// Litecoin sets bit 3 (0x08) of the segwit flag byte on a transaction that
// carries MWEB data: after the witnesses comes an optional MWEB transaction
// (0x00: none, which marks the block's integrating "HogEx" transaction; 0x01
// followed by the MWEB transaction), then the lock time. A block whose last
// transaction is a HogEx is followed by its MWEB block. btcd's wire package
// refuses both. Here:
//
//   - a transaction without the MWEB flag is decoded by btcd's wire itself
//     (so Bitcoin transactions decode exactly as before);
//   - a transaction with it is read field by field, its MWEB part checked
//     structurally and skipped, and its inputs, outputs, witnesses and lock
//     time returned. Its TxHash is the node's txid (Litecoin's txid excludes
//     witness and MWEB data);
//   - a transaction with no canonical input nor output (a pure MWEB
//     transaction, whose txid is its kernel hash) gives ErrMWEBOnly: it
//     cannot pay or spend a canonical script;
//   - a block's trailing MWEB block is checked structurally and skipped; the
//     HogEx is kept, because its outputs carry MWEB peg-outs to canonical
//     scripts.
//
// The MWEB layout followed is ltcd v0.23.6's (wire/mweb*.go), which matches
// Litecoin Core 0.21.2's serialization.
package ltcwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// ErrMWEBOnly is returned by DecodeTx for a transaction that lives entirely
// in the MWEB extension block (no canonical inputs or outputs).
var ErrMWEBOnly = errors.New("ltcwire: MWEB-only transaction (no canonical inputs or outputs)")

// Serialization flags of the extended transaction format.
const (
	flagWitness = 0x01
	flagMWEB    = 0x08
)

// Bounds against hostile sizes (a block is at most 4 MB of canonical data;
// MWEB data is bounded by its own weight limit, far below these).
const (
	maxCount     = 1 << 20
	maxScript    = wire.MaxBlockPayload
	maxExtraData = 1 << 16
	rangeProofSz = 675
)

// Block is a decoded block: its header and its canonical transactions in
// block order (the HogEx, if any, last).
type Block struct {
	Header wire.BlockHeader
	Txs    []*wire.MsgTx
	// HasMWEB is true when the block ends with a HogEx (its MWEB block was
	// skipped).
	HasMWEB bool
}

// Hash returns the block hash (double SHA-256 of the header).
func (b *Block) Hash() chainhash.Hash { return b.Header.BlockHash() }

// DecodeTx decodes one raw transaction (with or without witness or MWEB
// data). Trailing bytes are an error. A pure MWEB transaction gives
// ErrMWEBOnly.
func DecodeTx(raw []byte) (*wire.MsgTx, error) {
	r := bytes.NewReader(raw)
	tx, err := readTx(r)
	if err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("ltcwire: %d trailing bytes after the transaction", r.Len())
	}
	if tx == nil {
		return nil, ErrMWEBOnly
	}
	return tx, nil
}

// DecodeBlock decodes a raw block (getblock verbosity 0): the header and
// every canonical transaction. The MWEB block after a HogEx is not decoded.
func DecodeBlock(raw []byte) (*Block, error) {
	r := bytes.NewReader(raw)
	var b Block
	if err := b.Header.Deserialize(r); err != nil {
		return nil, fmt.Errorf("ltcwire: block header: %w", err)
	}
	n, err := wire.ReadVarInt(r, 0)
	if err != nil {
		return nil, fmt.Errorf("ltcwire: transaction count: %w", err)
	}
	if n > maxCount {
		return nil, fmt.Errorf("ltcwire: %d transactions in a block", n)
	}
	b.Txs = make([]*wire.MsgTx, 0, n)
	for i := uint64(0); i < n; i++ {
		tx, hogEx, err := readTxKind(r)
		if err != nil {
			return nil, fmt.Errorf("ltcwire: transaction %d: %w", i, err)
		}
		if hogEx && i != n-1 {
			return nil, fmt.Errorf("ltcwire: HogEx at position %d of %d", i, n)
		}
		b.HasMWEB = hogEx
		if tx != nil {
			b.Txs = append(b.Txs, tx)
		}
	}
	if b.HasMWEB {
		if err := skipMWEBBlock(r); err != nil {
			return nil, fmt.Errorf("ltcwire: MWEB block: %w", err)
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("ltcwire: %d trailing bytes after the block", r.Len())
	}
	return &b, nil
}

// skipMWEBBlock skips the optional MWEB block after a HogEx: a presence
// byte, then the MWEB header (VARINT height, output, kernel and leafset
// roots, kernel and stealth offsets, 32 bytes each, VARINT output and kernel
// MMR sizes) and the block's transaction body.
func skipMWEBBlock(r *bytes.Reader) error {
	has, err := r.ReadByte()
	if err != nil {
		return err
	}
	switch has {
	case 0:
		return nil
	case 1:
	default:
		return fmt.Errorf("bad presence byte %#x", has)
	}
	if _, err := readCoreVarInt(r); err != nil {
		return err
	}
	if err := skip(r, 5*32); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		if _, err := readCoreVarInt(r); err != nil {
			return err
		}
	}
	_, err = skipTxBody(r)
	return err
}

// readTx reads one transaction; nil (without error) for a pure MWEB one.
func readTx(r *bytes.Reader) (*wire.MsgTx, error) {
	tx, _, err := readTxKind(r)
	return tx, err
}

// readTxKind is readTx that also reports whether the transaction is a HogEx.
func readTxKind(r *bytes.Reader) (tx *wire.MsgTx, hogEx bool, err error) {
	start := int64(r.Size()) - int64(r.Len())
	var head [6]byte
	if _, err := r.ReadAt(head[:], start); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	if r.Len() < 6 || head[4] != 0x00 || head[5]&flagMWEB == 0 {
		var t wire.MsgTx
		if err := t.Deserialize(r); err != nil {
			return nil, false, err
		}
		return &t, false, nil
	}
	return readMWEBTx(r)
}

// readMWEBTx reads a transaction serialized with the MWEB flag.
func readMWEBTx(r *bytes.Reader) (*wire.MsgTx, bool, error) {
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, false, err
	}
	flag := hdr[5]
	if flag&^(flagWitness|flagMWEB) != 0 {
		return nil, false, fmt.Errorf("unknown transaction flag %#x", flag)
	}
	tx := &wire.MsgTx{Version: int32(binary.LittleEndian.Uint32(hdr[:4]))}
	nIn, err := readCount(r, "inputs")
	if err != nil {
		return nil, false, err
	}
	tx.TxIn = make([]*wire.TxIn, nIn)
	for i := range tx.TxIn {
		in := &wire.TxIn{}
		if _, err := io.ReadFull(r, in.PreviousOutPoint.Hash[:]); err != nil {
			return nil, false, err
		}
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, false, err
		}
		in.PreviousOutPoint.Index = binary.LittleEndian.Uint32(b[:])
		if in.SignatureScript, err = wire.ReadVarBytes(r, 0, maxScript, "signature script"); err != nil {
			return nil, false, err
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, false, err
		}
		in.Sequence = binary.LittleEndian.Uint32(b[:])
		tx.TxIn[i] = in
	}
	nOut, err := readCount(r, "outputs")
	if err != nil {
		return nil, false, err
	}
	tx.TxOut = make([]*wire.TxOut, nOut)
	for i := range tx.TxOut {
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, false, err
		}
		out := &wire.TxOut{Value: int64(binary.LittleEndian.Uint64(b[:]))}
		if out.PkScript, err = wire.ReadVarBytes(r, 0, maxScript, "pk script"); err != nil {
			return nil, false, err
		}
		tx.TxOut[i] = out
	}
	if flag&flagWitness != 0 {
		for _, in := range tx.TxIn {
			n, err := readCount(r, "witness items")
			if err != nil {
				return nil, false, err
			}
			in.Witness = make(wire.TxWitness, n)
			for j := range in.Witness {
				if in.Witness[j], err = wire.ReadVarBytes(r, 0, maxScript, "witness item"); err != nil {
					return nil, false, err
				}
			}
		}
	}
	has, err := r.ReadByte()
	if err != nil {
		return nil, false, err
	}
	hogEx := false
	switch has {
	case 0:
		// A HogEx: MWEB flag without an MWEB transaction.
		if len(tx.TxOut) == 0 {
			return nil, false, errors.New("HogEx without outputs")
		}
		hogEx = true
	case 1:
		if err := skipMWEBTx(r); err != nil {
			return nil, false, fmt.Errorf("MWEB transaction: %w", err)
		}
	default:
		return nil, false, fmt.Errorf("bad MWEB presence byte %#x", has)
	}
	var lt [4]byte
	if _, err := io.ReadFull(r, lt[:]); err != nil {
		return nil, false, err
	}
	tx.LockTime = binary.LittleEndian.Uint32(lt[:])
	if len(tx.TxIn) == 0 && len(tx.TxOut) == 0 {
		return nil, false, nil
	}
	return tx, hogEx, nil
}

func readCount(r io.Reader, what string) (uint64, error) {
	n, err := wire.ReadVarInt(r, 0)
	if err != nil {
		return 0, err
	}
	if n > maxCount {
		return 0, fmt.Errorf("%d %s", n, what)
	}
	return n, nil
}

// skipMWEBTx skips an MWEB transaction: kernel offset and stealth offset
// (32 bytes each), then its body.
func skipMWEBTx(r *bytes.Reader) error {
	if err := skip(r, 64); err != nil {
		return err
	}
	nKernels, err := skipTxBody(r)
	if err != nil {
		return err
	}
	if nKernels < 1 {
		return errors.New("no kernel")
	}
	return nil
}

// skipTxBody skips inputs, outputs and kernels and returns the kernel count.
func skipTxBody(r *bytes.Reader) (uint64, error) {
	n, err := readCount(r, "MWEB inputs")
	if err != nil {
		return 0, err
	}
	for i := uint64(0); i < n; i++ {
		if err := skipInput(r); err != nil {
			return 0, fmt.Errorf("input %d: %w", i, err)
		}
	}
	if n, err = readCount(r, "MWEB outputs"); err != nil {
		return 0, err
	}
	for i := uint64(0); i < n; i++ {
		if err := skipOutput(r); err != nil {
			return 0, fmt.Errorf("output %d: %w", i, err)
		}
	}
	if n, err = readCount(r, "MWEB kernels"); err != nil {
		return 0, err
	}
	for i := uint64(0); i < n; i++ {
		if err := skipKernel(r); err != nil {
			return 0, fmt.Errorf("kernel %d: %w", i, err)
		}
	}
	return n, nil
}

// skipInput: features, output id (32), commitment (33), output public key
// (33), [input public key (33)], [extra data], signature (64).
func skipInput(r *bytes.Reader) error {
	f, err := r.ReadByte()
	if err != nil {
		return err
	}
	if err := skip(r, 32+33+33); err != nil {
		return err
	}
	if f&0x01 != 0 {
		if err := skip(r, 33); err != nil {
			return err
		}
	}
	if f&0x02 != 0 {
		if err := skipVarBytes(r, maxExtraData); err != nil {
			return err
		}
	}
	return skip(r, 64)
}

// skipOutput: commitment, sender and receiver public keys (33 each), the
// output message, the range proof (675 bytes; or 32 zero bytes and a 32-byte
// hash in the compact form), signature (64).
func skipOutput(r *bytes.Reader) error {
	if err := skip(r, 3*33); err != nil {
		return err
	}
	f, err := r.ReadByte()
	if err != nil {
		return err
	}
	if f&0x01 != 0 {
		// Key exchange public key, view tag, masked value, masked nonce.
		if err := skip(r, 33+1+8+16); err != nil {
			return err
		}
	}
	if f&0x02 != 0 {
		if err := skipVarBytes(r, maxExtraData); err != nil {
			return err
		}
	}
	var first [32]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		return err
	}
	if first == [32]byte{} {
		err = skip(r, 32)
	} else {
		err = skip(r, rangeProofSz-32)
	}
	if err != nil {
		return err
	}
	return skip(r, 64)
}

// skipKernel: features, then by feature bit fee (1), peg-in amount (2),
// peg-outs (4: count, then amount and script each), lock height (8), stealth
// excess (16: 33 bytes), extra data (32); then excess (33) and signature (64).
// Amounts and heights use Litecoin Core's VARINT encoding.
func skipKernel(r *bytes.Reader) error {
	f, err := r.ReadByte()
	if err != nil {
		return err
	}
	if f&^0x3f != 0 {
		return fmt.Errorf("unknown kernel features %#x", f)
	}
	if f&0x01 != 0 {
		if _, err := readCoreVarInt(r); err != nil {
			return err
		}
	}
	if f&0x02 != 0 {
		if _, err := readCoreVarInt(r); err != nil {
			return err
		}
	}
	if f&0x04 != 0 {
		n, err := readCount(r, "peg-outs")
		if err != nil {
			return err
		}
		for i := uint64(0); i < n; i++ {
			if _, err := readCoreVarInt(r); err != nil {
				return err
			}
			if err := skipVarBytes(r, maxScript); err != nil {
				return err
			}
		}
	}
	if f&0x08 != 0 {
		if _, err := readCoreVarInt(r); err != nil {
			return err
		}
	}
	if f&0x10 != 0 {
		if err := skip(r, 33); err != nil {
			return err
		}
	}
	if f&0x20 != 0 {
		if err := skipVarBytes(r, maxExtraData); err != nil {
			return err
		}
	}
	return skip(r, 33+64)
}

// readCoreVarInt reads Bitcoin Core's VARINT (serialize.h ReadVarInt): MSB
// base-128 with an offset of one per continuation byte.
func readCoreVarInt(r io.ByteReader) (uint64, error) {
	var n uint64
	for i := 0; ; i++ {
		if i >= 10 {
			return 0, errors.New("VARINT too long")
		}
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if n > (1<<64-1)>>7 {
			return 0, errors.New("VARINT too large")
		}
		n = n<<7 | uint64(b&0x7f)
		if b&0x80 == 0 {
			return n, nil
		}
		if n == 1<<64-1 {
			return 0, errors.New("VARINT too large")
		}
		n++
	}
}

func skipVarBytes(r *bytes.Reader, max uint64) error {
	n, err := wire.ReadVarInt(r, 0)
	if err != nil {
		return err
	}
	if n > max {
		return fmt.Errorf("%d-byte field", n)
	}
	return skip(r, int(n))
}

func skip(r *bytes.Reader, n int) error {
	if r.Len() < n {
		return io.ErrUnexpectedEOF
	}
	_, err := r.Seek(int64(n), io.SeekCurrent)
	return err
}
