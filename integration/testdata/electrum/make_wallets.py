#!/usr/bin/python3
"""Makes Electrum wallet files the way Bitcart's BTC daemon does, with
Electrum's own code, for walletd's import tests (regtest, offline).

Runs with any Electrum from 4.3 to 4.6: Debian's python3-electrum (4.3.4,
what CI installs), or a source tree of another release on PYTHONPATH.

  make_wallets.py create DIR < spec.json
      spec: {"wallets": [{"key": TEXT, "file": NAME (optional),
                          "requests": [{"amount_sat": N, "memo": S,
                                        "expiry": SECONDS, "age": SECONDS}]}]}
      Restores each wallet from its key text into DIR/<file>, by default
      named after the key as Bitcart names it (os.path.basename(key)), and
      adds each request as Bitcart's add_request does (force=True: a fresh
      receiving address), `age` seconds in the past. Prints the wallets,
      their requests (Electrum's ids) and the secrets each file holds.

  make_wallets.py record FILE... < history.json
      history: {"tip": H, "txs": [{"raw": HEX, "height": H (0: mempool),
                                   "block_hash": HEX, "timestamp": T,
                                   "txpos": N}]}
      Records the transactions paying each wallet into its file as
      Electrum's synchronizer and SPV verifier do, sets the wallet's known
      height to tip, and prints Electrum's status of every request.

  make_wallets.py fixtures DIR
      Makes the unit-test fixtures of coins/electrumfile: a hot (seed)
      wallet, a watch-only (xpub) one, a private-key list and an address
      list, each with requests unpaid, expired, paid (a synthetic mined
      transaction), unconfirmed (a synthetic mempool one) and partly paid,
      plus an encrypted file; writes DIR/expected.json with Electrum's own
      view of every request.
"""
import json
import os
import sys
import time
from unittest import mock

from electrum import constants

if hasattr(constants, 'set_regtest'):
    constants.set_regtest()
else:  # 4.6
    constants.BitcoinRegtest.set_as_network()

from electrum import version
from electrum.util import create_and_start_event_loop
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.wallet import Wallet, restore_wallet_from_text
from electrum.wallet_db import WalletDB
from electrum.transaction import Transaction
from electrum.util import TxMinedInfo
from electrum import bitcoin

# A throwaway segwit seed: the wallets of the fixtures.
SEED = "misery feature lounge skirt relief first found soda exotic random capital fresh"


def config_for(d, partial_writes=False):
    opts = {'regtest': True, 'electrum_path': d, 'offline': True}
    if partial_writes:
        opts['wallet_partial_writes'] = True
    return SimpleConfig(opts)


def load_wallet(path, config):
    """Opens an existing wallet file as Electrum's daemon does."""
    if 'allow_partial_writes' in WalletStorage.__init__.__code__.co_varnames:  # 4.6
        storage = WalletStorage(path, allow_partial_writes=bool(config.WALLET_PARTIAL_WRITES))
    else:
        storage = WalletStorage(path)
    if 'storage' in WalletDB.__init__.__code__.co_varnames:  # 4.5+
        db = WalletDB(storage.read(), storage=storage, upgrade=True)
        return Wallet(db, config=config)
    db = WalletDB(storage.read(), manual_upgrades=False)
    return Wallet(db, storage, config=config)


def add_request(wallet, amount_sat, memo, expiry, age=0, lightning_only=False):
    """Bitcart's add_request (Electrum's command with force=True)."""
    addr = None
    if not lightning_only:
        addr = wallet.get_unused_address()
        if addr is None:
            addr = wallet.create_new_address(False)
    when = int(time.time()) - int(age)
    with mock.patch('time.time', return_value=float(when)):
        key = wallet.create_request(amount_sat, memo, expiry, addr)
    wallet.save_db()
    return key


def request_view(wallet, key):
    req = wallet.get_request(key)
    d = wallet.export_request(req)
    return {
        'id': key,
        'address': req.get_address() or '',
        'amount_sat': req.get_amount_sat() or 0,
        'message': req.message,
        'time': req.time,
        'exp': req.exp,
        'height': req.height,
        'lightning': req.is_lightning(),
        'status': wallet.get_invoice_status(req),
        'tx_hashes': sorted(d.get('tx_hashes') or []),
        'confirmations': d.get('confirmations'),
    }


def secrets_of(path):
    """Every secret string the file holds (for tests that grep for them)."""
    with open(path) as f:
        text = f.read()
    try:
        d = json.loads('[' + text + ']')[0]
    except ValueError:
        return []
    out = []
    ks = d.get('keystore') or {}
    for k in ('seed', 'xprv', 'passphrase'):
        if ks.get(k):
            out.append(ks[k])
    out += list((ks.get('keypairs') or {}).values())
    if d.get('lightning_xprv'):
        out.append(d['lightning_xprv'])
    out += list((d.get('lightning_preimages') or {}).values())
    return out


def wallet_view(wallet, path, key):
    reqs = wallet.db.get_dict('payment_requests')
    return {
        'path': path,
        'key': key,
        'mpk': wallet.get_master_public_key() if hasattr(wallet, 'keystore') and wallet.keystore and hasattr(wallet.keystore, 'xpub') else '',
        'secrets': secrets_of(path),
        'requests': [request_view(wallet, k) for k in sorted(reqs.keys())],
    }


def cmd_create(d, spec):
    os.makedirs(d, exist_ok=True)
    config = config_for(d)
    out = []
    for ws in spec['wallets']:
        key = ws['key']
        path = os.path.join(d, ws.get('file') or os.path.basename(key))
        wallet = restore_wallet_from_text(key, path=path, config=config)['wallet']
        for r in ws.get('requests', []):
            add_request(wallet, r['amount_sat'], r.get('memo', ''), r.get('expiry', 0), r.get('age', 0))
        wallet.save_db()
        out.append(wallet_view(wallet, path, key))
    return {'electrum': version.ELECTRUM_VERSION, 'wallets': out}


def record(wallet, txs, tip):
    """Adds txs to the wallet's history as the synchronizer and verifier do."""
    adb = wallet.adb
    touched = {}
    for t in txs:
        tx = Transaction(t['raw'])
        txid = tx.txid()
        addrs = [o.address for o in tx.outputs() if o.address and wallet.is_mine(o.address)]
        if not addrs:
            continue
        adb.add_transaction(tx, allow_unrelated=True)
        for a in addrs:
            touched.setdefault(a, []).append((txid, t['height']))
    for addr, new in touched.items():
        hist = [tuple(h) for h in wallet.db.get_addr_history(addr)]
        for h in new:
            if h not in hist:
                hist.append(h)
        adb.receive_history_callback(addr, hist, {})
    for t in txs:
        if t['height'] > 0:
            txid = Transaction(t['raw']).txid()
            if wallet.db.get_transaction(txid) is not None:
                adb.add_verified_tx(txid, TxMinedInfo(height=t['height'], timestamp=t.get('timestamp', 0),
                                                      txpos=t.get('txpos', 1), header_hash=t.get('block_hash', '00' * 32)))
    wallet.db.put('stored_height', tip)
    wallet.save_db()


def cmd_record(paths, hist):
    out = []
    for path in paths:
        config = config_for(os.path.dirname(path))
        wallet = load_wallet(path, config)
        record(wallet, hist['txs'], hist['tip'])
        out.append(wallet_view(wallet, path, ''))
    return {'electrum': version.ELECTRUM_VERSION, 'wallets': out}


def script_hex(addr):
    s = bitcoin.address_to_script(addr)
    return s if isinstance(s, str) else s.hex()


def synthetic_tx(salt, pays):
    """A transaction spending a made-up coin, paying [(address, sats)]."""
    raw = '02000000' + '01' + (('%02x' % salt) * 32) + '00000000' + '00' + 'ffffffff'
    raw += '%02x' % len(pays)
    for addr, value in pays:
        script = script_hex(addr)
        raw += value.to_bytes(8, 'little').hex() + '%02x' % (len(script) // 2) + script
    return raw + '00000000'


def cmd_fixtures(d):
    os.makedirs(d, exist_ok=True)
    ver = version.ELECTRUM_VERSION
    config = config_for(d, partial_writes=True)
    seed_wallet = restore_wallet_from_text(SEED, path=os.path.join(d, 'tmp-seed'), config=config)['wallet']
    xpub = seed_wallet.get_master_public_key()
    keys = [seed_wallet.export_private_key(a, None) for a in seed_wallet.get_receiving_addresses()[10:13]]
    addrs = seed_wallet.get_receiving_addresses()[14:17]
    os.remove(os.path.join(d, 'tmp-seed'))
    # Files are named by role here (Bitcart names them after the key text,
    # which expected.json keeps as "key": tests parse them under that name).
    texts = [('hot-seed', SEED), ('watch-xpub', xpub), ('hot-wifs', ' '.join(keys)), ('watch-addresses', ' '.join(addrs))]
    ten_years = 10 * 365 * 24 * 3600
    wallets = []
    salt = 1
    for i, (name, text) in enumerate(texts):
        path = os.path.join(d, name)
        wallet = restore_wallet_from_text(text, path=path, config=config)['wallet']
        deterministic = i < 2
        reqs = {}
        reqs['unpaid'] = add_request(wallet, 150000, 'Salt & Pepper', 0)
        # Electrum hands the address of an expired request to the next
        # one: 'paid' reuses the address of 'expired-reused', and paying it
        # shows both paid (Electrum's #8061), as Bitcart saw them.
        reqs['expired-reused'] = add_request(wallet, 200000, 'late', 3600, age=7200)
        reqs['paid'] = add_request(wallet, 300000, 'paid', ten_years)
        if deterministic:
            reqs['unconfirmed'] = add_request(wallet, 400000, 'in the mempool', ten_years)
            reqs['partial'] = add_request(wallet, 500000, 'half paid', ten_years)
            reqs['any-amount'] = add_request(wallet, 0, 'tip jar', 0)
        # Reopened, Electrum 4.5 (and 4.6 with wallet_partial_writes)
        # appends the next changes to the file as JSON patches.
        wallet = load_wallet(path, config)
        reqs['expired'] = add_request(wallet, 250000, 'too late', 600, age=3600)
        if deterministic and wallet.has_lightning():
            reqs['lightning-only'] = add_request(wallet, 1000, 'ln', 3600, lightning_only=True)
        txs = []

        def pay(name, sats, height):
            nonlocal salt
            addr = wallet.get_request(reqs[name]).get_address()
            txs.append({'raw': synthetic_tx(salt, [(addr, sats)]), 'height': height,
                        'block_hash': ('%02x' % salt) * 32, 'timestamp': 1700000000 + height, 'txpos': 1})
            salt += 1
        pay('paid', 300000, 150)
        if deterministic:
            pay('unconfirmed', 400000, 0)
            pay('partial', 250000, 151)
            pay('any-amount', 1234, 152)
        record(wallet, txs, 160)
        view = wallet_view(wallet, path, text)
        view['labels'] = {v: k for k, v in reqs.items()}
        view['file'] = os.path.basename(path)
        view['receiving'] = len(wallet.get_receiving_addresses())
        view['change'] = len(wallet.get_change_addresses()) if deterministic else 0
        view['addresses'] = sorted(wallet.get_addresses()) if not deterministic else []
        view['seed_version'] = wallet.db.get('seed_version')
        del view['path']
        wallets.append(view)
    enc = os.path.join(d, 'encrypted')
    restore_wallet_from_text(xpub, path=enc, config=config_for(d), password='secret', encrypt_file=True)
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump({'electrum': ver, 'wallets': wallets, 'encrypted': 'encrypted'}, f, indent=1, sort_keys=True)
    return {'electrum': ver, 'dir': d}


def main():
    loop, stop_loop, loop_thread = create_and_start_event_loop()
    try:
        cmd = sys.argv[1]
        if cmd == 'create':
            out = cmd_create(sys.argv[2], json.load(sys.stdin))
        elif cmd == 'record':
            out = cmd_record(sys.argv[2:], json.load(sys.stdin))
        elif cmd == 'fixtures':
            out = cmd_fixtures(sys.argv[2])
        else:
            raise SystemExit('usage: make_wallets.py create DIR | record FILE... | fixtures DIR')
        json.dump(out, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write('\n')
    finally:
        loop.call_soon_threadsafe(stop_loop.set_result, 1)
        loop_thread.join(timeout=10)


if __name__ == '__main__':
    main()
