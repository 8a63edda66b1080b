// Package keys parses the key material a Bitcart client names a wallet with
// (contract.md §5) and derives its keys and addresses exactly as Electrum
// 4.3.4 does, so that a merchant moving from Bitcart keeps its addresses.
//
// Accepted material, tried in Electrum's order (restore_wallet_from_text):
// a list of addresses, a list of WIF private keys, an extended key of the
// network (x/y/z/t/u/v, public or private), an Electrum seed ("standard" or
// "segwit"). Parse returns an immutable *Material; Derive gives the
// receiving (account/0/i) and change (account/1/i) keys of a deterministic
// wallet with one child derivation each, Imported the keys of an imported
// wallet. SeedType, IsMasterKey and ValidateKey answer Electrum's and
// Bitcart's validation questions, and MakeSeed makes new Electrum seeds.
//
// Secrets: seeds and private keys are kept only in memory, inside a Material,
// and never appear in an error text or in any printed form of a Material
// (String, GoString, Format, LogValue show only kind and fingerprint). The
// Fingerprint is computed from public material only and is what the store
// may key a wallet by.
//
// The package does no I/O and has no mutable package-level state (the
// English word index is built once, lazily, and only read).
//
// Where Electrum itself refuses to open a wallet, Parse returns
// ErrUnsupportedKey: 2fa seeds (Electrum's from_seed raises), multisig
// extended keys Y/Z/U/V (its standard wallet cannot derive p2wsh addresses)
// and WIF lists whose keys are all of multisig types. IsMasterKey and
// SeedType still recognise them, as Electrum's is_master_key and seed_type do.
//
// Known gaps against Electrum 4.3.4:
//
//   - Old (Electrum 1.x) wallets are not supported: an old seed in hex form
//     (SeedType "old") and an old master public key (128 hex characters,
//     IsMasterKey true) make Parse return ErrUnsupportedKey where Electrum
//     opens an old-keystore wallet.
//   - Old (Electrum 1.x) seeds are recognised in their hex form only (32 or
//     64 hex characters, as Electrum's is_old_seed). Their word form, 12 or
//     24 words of Electrum's 1626-word old list, needs that list, which no Go
//     module reachable here ships; such a seed gets whatever type its HMAC
//     prefix says (usually "", so ValidateKey is false where Electrum says
//     true). For the same reason MakeSeed cannot skip, as Electrum does, the
//     seeds whose every word is also an old-list word (861 of the 2048
//     English words are); Electrum would read such a seed (about 1 in 33,000
//     12-word seeds) as an old seed.
//   - Only the English word list is used by MakeSeed (Electrum also has es,
//     ja, pt, zh); SeedType and Parse accept seeds in any language since they
//     only hash the normalized text.
//   - Unicode tables are Go's and x/text's (Unicode 15) where Python 3.11 has
//     Unicode 14; they differ only for characters added in Unicode 15.
//   - MakeSeed refuses fewer than 128 bits of entropy (Electrum returns a
//     seed with no randomness below 12 bits) and more than 4096.
//   - Parse keeps only the first key of an imported list for each output
//     script (Electrum dedups address lists by exact string only).
//   - Electrum's minikey, 3.0.x WIF version-byte encodings and "type:" WIF
//     prefixes are supported; WIF keys of Electrum's multisig types (p2sh,
//     p2wsh, p2wsh-p2sh) are skipped like Electrum skips them.
package keys
