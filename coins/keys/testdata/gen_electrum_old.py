#!/usr/bin/python3
"""Generates electrum_old.json: Electrum 4.3.4's own answers for Electrum 1.x
("old") seeds and master public keys, which coins/keys loads as Electrum's
Old_KeyStore does.

Run with Debian's python3-electrum (4.3.4) installed, outside Electrum's
package directory:
    cd /tmp && /usr/bin/python3 <repo>/coins/keys/testdata/gen_electrum_old.py > electrum_old.json
The seeds are fixed, so regenerating gives the same file.
"""
import json
import os
import sys
import tempfile

from electrum import constants, mnemonic, old_mnemonic, util
from electrum.simple_config import SimpleConfig
from electrum.wallet import restore_wallet_from_text

assert mnemonic.version.ELECTRUM_VERSION == "4.3.4", mnemonic.version.ELECTRUM_VERSION

loop, stop_loop, loop_thread = util.create_and_start_event_loop()
cfg = SimpleConfig({"electrum_path": tempfile.mkdtemp()})

w12 = "blame mold yearn naked obviously type fold draw fate cheer branch wheel"
hex64 = "5c1ecd2c9a1e8b2e6b7a0f4a0b2e9b1c7d3e5f6a8b9c0d1e2f3a4b5c6d7e8f90"
w24 = " ".join(old_mnemonic.mn_encode(hex64))
wmax = " ".join([old_mnemonic.wordlist[1625], old_mnemonic.wordlist[1624], old_mnemonic.wordlist[1623]] * 4)
seeds = {
    "12 words": w12,
    "24 words": w24,
    "12 words, upper case and odd spaces": "  " + w12.upper().replace(" ", " \t\n ") + " ",
    "32 hex digits": "0028644c0028644f0028645200286455",
    "64 hex digits, spaced": " ".join(hex64[i:i + 2] for i in range(0, 64, 2)),
    "12 words, nine-digit groups": wmax,
}

NETS = {"mainnet": constants.set_mainnet, "regtest": constants.set_regtest}
out = {"generator": "Electrum 4.3.4 (Debian python3-electrum), coins/keys/testdata/gen_electrum_old.py", "networks": {}}
for net, setnet in NETS.items():
    setnet()
    wallets = []
    for label, text in seeds.items():
        r = restore_wallet_from_text(text, path=None, config=cfg)
        w = r["wallet"]
        assert w.keystore.type == "old", label
        rec = w.get_receiving_addresses()[:5]
        chg = w.get_change_addresses()[:3]
        wallets.append({
            "label": label,
            "key_material": text,
            "seed_type": mnemonic.seed_type(text),
            "mpk": w.get_master_public_key(),
            "receiving": rec,
            "change": chg,
            "receiving_wif": [w.export_private_key(a, None) for a in rec[:2]],
            "change_wif": [w.export_private_key(a, None) for a in chg[:1]],
        })
        mpk = w.get_master_public_key()
        r2 = restore_wallet_from_text(mpk, path=None, config=cfg)
        w2 = r2["wallet"]
        assert w2.get_receiving_addresses()[:5] == rec and w2.is_watching_only()
    out["networks"][net] = {"wallets": wallets}

constants.set_mainnet()
words = list(old_mnemonic.wordlist)
texts = [
    w12, w24, " ".join(w12.split()[:11]), w12 + " " + words[0], " ".join(w12.split()[:9] + ["abandon", "x", "y"]),
    " ".join(words[:15]), " ".join(w24.split()[:23]) + " zzzz", " ".join(words[:3]), w12.replace("blame", "Blame"),
    "like just love know never want time out there make look eye",
    "like just love know never want time out there make look abandon",
    "0028644c0028644f0028645200286455", "0028644c0028644f00286452002864",
]
out["is_old_seed"] = [{"text": t, "old": mnemonic.is_old_seed(t), "seed_type": mnemonic.seed_type(t)} for t in texts]
print(json.dumps(out, indent=1, sort_keys=True))
sys.stdout.flush()
os._exit(0)  # Electrum's event loop thread would keep the process alive
