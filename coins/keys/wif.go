package keys

import (
	"crypto/sha256"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/walletd/walletd/coins/params"
)

// wifScriptTypes are the keys of Electrum's WIF_SCRIPT_TYPES: the script
// types a WIF key may name (as a "type:" prefix or, for keys exported by
// Electrum 3.0.x, as an offset added to the WIF version byte: the network's
// own table, params.Network.WIFVersion, since Electrum-LTC's offsets differ).
var wifScriptTypes = [...]struct {
	name string
	t    params.ScriptType
	ok   bool // importable into an Electrum imported-keys wallet
}{
	{"p2pkh", params.P2PKH, true},
	{"p2wpkh", params.P2WPKH, true},
	{"p2wpkh-p2sh", params.P2WPKHP2SH, true},
	{"p2sh", params.ScriptUnknown, false},
	{"p2wsh", params.P2WSH, false},
	{"p2wsh-p2sh", params.P2WSHP2SH, false},
}

// wifKey is a decoded private key.
type wifKey struct {
	scriptType params.ScriptType // ScriptUnknown for Electrum's "p2sh"
	importable bool              // Electrum's imported wallet accepts the type
	priv       *btcec.PrivateKey
	compressed bool
}

// b58Alphabet is the base58 alphabet.
const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// isMinikey is Electrum's bitcoin.is_minikey (Casascius mini private keys):
// at least 20 characters, starting with 'S', all base58, and SHA256(key+"?")
// starting with a zero byte.
func isMinikey(s string) bool {
	if len(s) < 20 || s[0] != 'S' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(b58Alphabet, s[i]) < 0 {
			return false
		}
	}
	h := sha256.Sum256([]byte(s + "?"))
	return h[0] == 0
}

// deserializePrivKey is Electrum 4.3.4's bitcoin.deserialize_privkey on
// network n: a minikey (p2pkh, uncompressed), or an optional "type:" prefix
// followed by base58check WIF. Without a prefix the script type comes from the
// version byte (n.WIFVersion: Electrum 3.0.x export format); with one the
// version byte must be n's WIF prefix. The payload is 33 or 34 bytes (a
// 34th byte must be 0x01, meaning compressed); segwit types need a compressed
// key; the secret is reduced modulo the curve order and must not be zero.
func deserializePrivKey(s string, n *params.Network) (*wifKey, bool) {
	if len(s) > MaxPartBytes {
		return nil, false
	}
	if isMinikey(s) {
		h := sha256.Sum256([]byte(s))
		priv, ok := privFromBytesMod(h[:])
		clear(h[:])
		if !ok {
			return nil, false
		}
		return &wifKey{scriptType: params.P2PKH, importable: true, priv: priv}, true
	}
	typeIdx := -1
	if name, rest, found := strings.Cut(s, ":"); found {
		for i, st := range wifScriptTypes {
			if st.name == name {
				typeIdx = i
			}
		}
		if typeIdx < 0 {
			return nil, false
		}
		s = rest
	}
	vch, ok := decodeBase58Check(s, maxWIFLen)
	if !ok || len(vch) == 0 {
		return nil, false
	}
	defer clear(vch)
	if typeIdx < 0 {
		for i, st := range wifScriptTypes {
			if v, ok := n.WIFVersion(st.name); ok && vch[0] == v {
				typeIdx = i
			}
		}
		if typeIdx < 0 {
			return nil, false
		}
	} else if vch[0] != n.WIFPrefix {
		return nil, false
	}
	if len(vch) != 33 && len(vch) != 34 {
		return nil, false
	}
	compressed := false
	if len(vch) == 34 {
		if vch[33] != 0x01 {
			return nil, false
		}
		compressed = true
	}
	st := wifScriptTypes[typeIdx]
	isSegwit := st.name == "p2wpkh" || st.name == "p2wpkh-p2sh" || st.name == "p2wsh" || st.name == "p2wsh-p2sh"
	if isSegwit && !compressed {
		return nil, false
	}
	priv, ok := privFromBytesMod(vch[1:33])
	if !ok {
		return nil, false
	}
	return &wifKey{scriptType: st.t, importable: st.ok, priv: priv, compressed: compressed}, true
}

// privFromBytesMod is Electrum's ECPrivkey.normalize_secret_bytes: the
// 32-byte big-endian value reduced modulo the curve order, refused if zero.
func privFromBytesMod(b []byte) (*btcec.PrivateKey, bool) {
	var k btcec.ModNScalar
	k.SetByteSlice(b)
	if k.IsZero() {
		return nil, false
	}
	p := btcec.PrivKeyFromScalar(&k)
	k.Zero()
	return p, true
}
