// Package keys parses the key material a Bitcart client names a wallet with
// (contract.md §5) and derives its keys and addresses exactly as Electrum
// 4.3.4 does, so that a merchant moving from Bitcart keeps its addresses.
//
// Accepted material, tried in Electrum's order (restore_wallet_from_text):
// a list of addresses, a list of WIF private keys, an extended key of the
// network (x/y/z/t/u/v, public or private), an old (Electrum 1.x) master
// public key, an Electrum seed ("standard", "segwit" or "old"). Parse
// returns an immutable *Material; Derive gives the receiving (account/0/i)
// and change (account/1/i) keys of a deterministic wallet with one child
// derivation each (an old wallet: Electrum's Old_KeyStore sequence,
// uncompressed P2PKH), Imported the keys of an imported wallet. SeedType,
// IsMasterKey and ValidateKey answer Electrum's and Bitcart's validation
// questions, and MakeSeed makes new Electrum seeds.
//
// Bounds: key material is at most MaxMaterialBytes, MaxParts
// whitespace-separated parts of at most MaxPartBytes each; extended keys and
// WIFs are length-checked before base58 decoding (which is quadratic in its
// input). MakeSeed takes at most 256 bits and stops when its context ends.
//
// Secrets: seeds and private keys are kept only in memory, inside a Material,
// and never appear in an error text or in any printed form of a Material
// (String, GoString, Format, LogValue show only kind and fingerprint). The
// Fingerprint is computed from public material only and is what the store
// may key a wallet by.
//
// The package does no I/O and has no mutable package-level state (the word
// indexes and the base-point table of public derivation are built once,
// lazily, and only read).
//
// Where Electrum itself refuses to open a wallet, Parse returns
// ErrUnsupportedKey: 2fa seeds (Electrum's from_seed raises), multisig
// extended keys Y/Z/U/V (its standard wallet cannot derive p2wsh addresses)
// and WIF lists whose keys are all of multisig types. IsMasterKey and
// SeedType still recognise them, as Electrum's is_master_key and seed_type do.
//
// Known gaps against Electrum 4.3.4:
//
//   - Only the English word list is used by MakeSeed (Electrum also has es,
//     ja, pt, zh); SeedType and Parse accept seeds in any language since they
//     only hash the normalized text.
//   - Unicode tables are Go's and x/text's (Unicode 15) where Python 3.11 has
//     Unicode 14; they differ only for characters added in Unicode 15.
//   - MakeSeed refuses fewer than 128 bits of entropy (Electrum returns a
//     seed with no randomness below 12 bits) and more than 256.
//   - Parse refuses material past the bounds above, which Electrum would try
//     to read (no real key comes near them).
//   - Parse keeps only the first key of an imported list for each output
//     script (Electrum dedups address lists by exact string only).
//   - An old master public key given in upper-case hex is reported by
//     MasterPublicKey in lower case (Electrum echoes it as given).
//   - Electrum's minikey, 3.0.x WIF version-byte encodings and "type:" WIF
//     prefixes are supported; WIF keys of Electrum's multisig types (p2sh,
//     p2wsh, p2wsh-p2sh) are skipped like Electrum skips them.
package keys
