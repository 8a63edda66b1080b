package bch

import (
	"errors"
	"fmt"

	bchwire "github.com/gcash/bchd/wire"
)

// TokenPrefix is the CashTokens PREFIX_TOKEN byte: an output whose locking
// bytes start with it carries token data (category, capability, commitment,
// amount) before its locking bytecode. 0xef is OP_UNKNOWN239, which no
// spendable script starts with.
const TokenPrefix = 0xef

// ErrTokenCoin is returned when a coin that carries CashTokens (or has a
// malformed token prefix) would be spent as plain BCH: Electron Cash keeps
// such coins out of ordinary sends, and spending one without carrying its
// tokens over would burn them.
var ErrTokenCoin = errors.New("bch: the coin carries CashTokens and is never spent as plain BCH")

// Token is the token data of a CashTokens output.
type Token struct {
	// Category is the 32-byte token category ID, in the byte order it has
	// in the output (the reverse of its usual hex display).
	Category [32]byte
	// Amount is the fungible token amount (0 if none).
	Amount uint64
	// NFT reports whether the output holds a non-fungible token, with
	// Capability 0 (immutable), 1 (mutable) or 2 (minting) and its
	// Commitment.
	NFT        bool
	Capability byte
	Commitment []byte
}

// HasToken reports whether an output's locking bytes start with the token
// prefix: such an output is not a plain BCH coin, whether its token data is
// valid or not.
func HasToken(pkScript []byte) bool { return len(pkScript) > 0 && pkScript[0] == TokenPrefix }

// SplitToken separates an output's locking bytes into its token data and
// its locking bytecode (the script that decides who spends it, e.g. a
// wallet's P2PKH script), with bchd's CashTokens parser. An output without
// the prefix returns (nil, pkScript). Malformed token data (which the
// network rejects once CashTokens are active) is an error.
func SplitToken(pkScript []byte) (*Token, []byte, error) {
	if !HasToken(pkScript) {
		return nil, pkScript, nil
	}
	var td bchwire.TokenData
	locking, err := td.SeparateTokenDataFromPKScriptIfExists(pkScript, 0)
	if err != nil || len(locking) == len(pkScript) {
		return nil, nil, fmt.Errorf("bch: malformed token prefix: %v", err)
	}
	t := &Token{Category: td.CategoryID, Amount: td.Amount, NFT: td.HasNFT(),
		Capability: td.GetCapability(), Commitment: append([]byte(nil), td.Commitment...)}
	return t, append([]byte(nil), locking...), nil
}
