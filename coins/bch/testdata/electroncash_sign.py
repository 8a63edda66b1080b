#!/usr/bin/python3
"""Prints the signatures coins/bch's tests compare with: Electron Cash 4.4.2
(Electron-Cash/Electron-Cash@492f050, Bitcart's pin) signing, with its pure
Python ecdsa and Schnorr code, a two-input P2PKH transaction (one compressed,
one uncompressed key: the imported-wif keys of shared/testdata/electroncash)
with Schnorr and with ECDSA, and four messages.

Run from a checkout of that commit's electroncash/ folder, e.g.:

    git -C <Electron-Cash git dir> archive 492f050 electroncash | tar -x -C $TMPDIR/ec
    apt-get install python3-ecdsa python3-pyaes
    cd $TMPDIR/ec && /usr/bin/python3 <this file>

Modules the signing code does not use (GUI, network, protobuf, ...) are
replaced by empty stubs, and the package's __init__ (which starts all of
them) is skipped; nothing Electron Cash computes here is patched.
"""
import base64
import hashlib
import os
import sys
import types

pkg = types.ModuleType('electroncash')
pkg.__path__ = [os.path.join(os.getcwd(), 'electroncash')]
sys.modules['electroncash'] = pkg


class Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        m = Stub(self.__name__ + '.' + name)
        sys.modules[m.__name__] = m
        return m


def stub(name):
    parts = name.split('.')
    for i in range(1, len(parts) + 1):
        n = '.'.join(parts[:i])
        if n not in sys.modules:
            sys.modules[n] = Stub(n)


for _ in range(60):
    try:
        import electroncash.transaction  # noqa: F401
        break
    except ModuleNotFoundError as e:
        for k in [k for k in sys.modules if k.startswith('electroncash.') and not isinstance(sys.modules[k], Stub)]:
            del sys.modules[k]
        stub(e.name)

import electroncash.bitcoin as b  # noqa: E402
import electroncash.transaction as T  # noqa: E402
from electroncash.address import Address  # noqa: E402


def dh(x):
    return hashlib.sha256(hashlib.sha256(x).digest()).digest()


SECRETS = ['621b8a5c8f3c8df720b7e724dc5e5f24d0aa13343577610783d36fc6ad459167',
           '9e1e067d8533ded9d611680abafde1e26fb09b0033c91d0240c07e58f9710494']
COMPRESSED = [True, False]
VALUES = [50000, 70000]


def inputs():
    ins, keypairs = [], {}
    for i, (sec, comp) in enumerate(zip(SECRETS, COMPRESSED)):
        pub = b.public_key_from_private_key(bytes.fromhex(sec), comp)
        ins.append({'type': 'p2pkh', 'address': Address.from_pubkey(pub), 'prevout_hash': dh(bytes([i]))[::-1].hex(),
                    'prevout_n': i, 'value': VALUES[i], 'sequence': 0xffffffff, 'x_pubkeys': [pub],
                    'pubkeys': [pub], 'signatures': [None], 'num_sig': 1})
        keypairs[pub] = (bytes.fromhex(sec), comp)
    return ins, keypairs


out1 = Address.from_pubkey(bytes([2]) * 33)
out2 = Address.from_pubkey(bytes.fromhex(b.public_key_from_private_key(bytes.fromhex(SECRETS[0]), True)))
for schnorr in (True, False):
    ins, keypairs = inputs()
    tx = T.Transaction.from_io(ins, [(0, out1, 100000), (0, out2, 19000)], locktime=0, sign_schnorr=schnorr, version=2)
    estimated = tx.estimated_size()
    tx.sign(keypairs)
    print('schnorr' if schnorr else 'ecdsa', 'estimated', estimated, 'signed', tx.serialize())
for sec, comp in zip(SECRETS, COMPRESSED):
    k = b.EC_KEY(bytes.fromhex(sec))
    for msg in ['walletd', 'héllo wörld ✓']:
        print('message', sec[:8], comp, repr(msg), base64.b64encode(k.sign_message(msg.encode(), comp)).decode())
