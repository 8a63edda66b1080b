#!/usr/bin/python3
"""Prints coins/bch's partial-transaction vectors (partial.json): what
Electron Cash 4.4.2 (Electron-Cash/Electron-Cash@492f050, Bitcart's pin)
gives a watch-only wallet's payto (its unsigned transaction format), and the
same transaction signed by the wallet of the matching xprv, for the regtest
wallets of shared/testdata/electroncash: standard-account-xpub (BIP32),
old-mpk (Electrum 1.x) and imported-addresses.

Run with the whole package, restore_wallet_from_text as Bitcart uses it:

    git -C <Electron-Cash git dir> archive 492f050 | tar -x -C $TMPDIR/ec
    apt-get install python3-ecdsa python3-pyaes python3-requests python3-socks python3-dateutil \
      python3-jsonrpclib-pelix python3-pathvalidate python3-stem python3-dnspython python3-protobuf \
      python3-qrcode python3-certifi python3-cryptography
    PYTHONPATH=$TMPDIR/ec /usr/bin/python3 <this file> <vectors.json> | sed -n '/^\[$/,$p' > partial.json

(Electron Cash prints a notice about libsecp256k1 on stdout first: the sed
keeps the JSON; the pure-Python signing it falls back to is what the
vectors were made with.)

Changes: a no-op google.protobuf.runtime_version (Debian's protobuf lacks
it; the checked-in paymentrequest_pb2 asks for it), and the watch-only
wallet's get_addr_io answering with the made-up coins (its history).
"""
import json
import sys
import types

import google.protobuf
rv = types.ModuleType('google.protobuf.runtime_version')
class _Domain:
    PUBLIC = 0
rv.Domain = _Domain
rv.ValidateProtobufRuntimeVersion = lambda *a, **k: None
sys.modules['google.protobuf.runtime_version'] = rv
google.protobuf.runtime_version = rv

from electroncash import networks  # noqa: E402
networks.set_regtest()
from electroncash.address import Address  # noqa: E402
from electroncash.bitcoin import TYPE_ADDRESS  # noqa: E402
from electroncash.simple_config import SimpleConfig  # noqa: E402
from electroncash.transaction import Transaction  # noqa: E402
from electroncash.wallet import restore_wallet_from_text  # noqa: E402

vec = json.load(open(sys.argv[1]))['networks']['regtest']['wallets']
by = {w['label']: w for w in vec}
config = SimpleConfig({'fee_per_kb': 1000}, read_user_config_function=lambda path: {})
out = []
for watch, signer in [('standard-account-xpub', 'standard-account-xprv'), ('old-mpk', 'old-seed'),
                      ('imported-addresses', None)]:
    w = restore_wallet_from_text(by[watch]['key_material'], path=None, config=config)['wallet']
    addrs = [Address.from_string(a) for a in by[watch]['receiving'][:2]]
    coins = []
    for i, a in enumerate(addrs):
        coins.append({'prevout_hash': ('%02x' % (i + 1)) * 32, 'prevout_n': i, 'value': 1_000_000 * (i + 1),
                      'address': a, 'type': 'p2pkh', 'height': 100, 'coinbase': False, 'token_data': None,
                      'slp_token': None, 'is_frozen_coin': False})
    # The wallet's history is the coins above (the network is not used).
    io = {}
    for c in coins:
        io.setdefault(c['address'], {})['%s:%d' % (c['prevout_hash'], c['prevout_n'])] = (100, c['value'], False, None)
    w.get_addr_io = lambda a: (io.get(a, {}), {})
    dest = Address.from_string(by['electrum-seed']['receiving'][0])
    change = addrs[0]
    tx = w.make_unsigned_transaction(coins, [(TYPE_ADDRESS, dest, 2_000_000)], config, fixed_fee=500,
                                     change_addr=change)
    tx.locktime = 150
    unsigned = tx.serialize()
    item = {'watch': watch, 'unsigned': unsigned,
            'inputs': [{'prevout_hash': c['prevout_hash'], 'prevout_n': c['prevout_n'], 'value': c['value'],
                        'address': c['address'].to_ui_string()} for c in coins],
            'signer': signer}
    if signer:
        s = restore_wallet_from_text(by[signer]['key_material'], path=None, config=config)['wallet']
        t2 = Transaction(unsigned, sign_schnorr=True)
        s.sign_transaction(t2, None)
        item['signed'] = t2.serialize()
        item['complete'] = t2.is_complete()
    out.append(item)
print(json.dumps(out, indent=1))
