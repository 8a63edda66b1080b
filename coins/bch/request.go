package bch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// RequestID is the id Electron Cash gives a payment request
// (Wallet.make_payment_request): the first 10 hex digits of
// sha256d(legacy address || decimal timestamp). Bitcart's BCH daemon
// returns it as the request's "id"; Electron Cash itself keys requests by
// address (getrequest, rmrequest).
func RequestID(legacyAddress string, timestamp int64) string {
	first := sha256.Sum256([]byte(legacyAddress + strconv.FormatInt(timestamp, 10)))
	second := sha256.Sum256(first[:])
	return hex.EncodeToString(second[:5])
}
