package wallet

// walletEventRows (schema 6 → 7) converts nothing: schema 7 writes one
// get_updates index row (bWEvents) per wallet and commit, whose value lists
// the wallet's other events of that commit (putWalletEvents), where schema
// 6 wrote one row per event with an empty value, and schema 7 reads such a
// row as naming its key's event only (walletEventSeqs). The version moves
// so that an engine of schema 6 or older, which would read only the last event of
// each row, refuses the store instead (ErrStoreVersion). It is resumable
// as it stands: it writes nothing but the version, in one transaction.
func walletEventRows(KV) error { return nil }
