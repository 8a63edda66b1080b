package keys

// MasterPrivateKey returns the account-level extended private key in the
// network's SLIP-132 form (zprv/vprv for segwit, xprv/tprv for standard),
// which is what Electrum's getmasterprivate returns. Watch-only material
// gives ErrNoPrivateKey, an imported wallet ErrNotDeterministic. The result
// is a secret: never log or store it.
func (m *Material) MasterPrivateKey() (string, error) {
	if !m.Deterministic() {
		return "", ErrNotDeterministic
	}
	if m.sec == nil || m.sec.account == nil {
		return "", ErrNoPrivateKey
	}
	hd, ok := m.net.HDVersionFor(m.scriptType)
	if !ok {
		return "", ErrUnsupportedKey
	}
	return base58Check(m.sec.account.serialize(hd.Private, true)), nil
}
