#!/usr/bin/python3
"""Generates electrum_extra.json: behaviour of Electrum 4.3.4 itself for the
edge cases coins/keys and coins/params must match.

Run with Debian's python3-electrum (4.3.4) installed:
    apt-get install python3-electrum
    cd /tmp && /usr/bin/python3 <repo>/coins/keys/testdata/gen_electrum_extra.py > electrum_extra.json
(run it outside Electrum's package directory). Seeds made by make_seed are
random, so regenerating changes the file; every value in it is Electrum's own
answer at generation time.
"""
import hashlib
import json
import sys
import tempfile

from electrum import bitcoin, constants, keystore, mnemonic, util
from electrum.bip32 import BIP32Node
from electrum.simple_config import SimpleConfig
from electrum.transaction import get_address_from_output_script
from electrum.wallet import restore_wallet_from_text
from electrum import segwit_addr

assert mnemonic.version.ELECTRUM_VERSION == "4.3.4", mnemonic.version.ELECTRUM_VERSION

loop, stop_loop, loop_thread = util.create_and_start_event_loop()
cfg = SimpleConfig({"electrum_path": tempfile.mkdtemp()})

NETS = {
    "mainnet": constants.set_mainnet,
    "testnet": constants.set_testnet,
    "regtest": constants.set_regtest,
    "signet": constants.set_signet,
    "simnet": constants.set_simnet,
}

out = {"generator": "Electrum 4.3.4 (Debian python3-electrum), coins/keys/testdata/gen_electrum_extra.py"}

# ---------------------------------------------------------------- seeds
constants.set_mainnet()
M = mnemonic.Mnemonic("en")
made = {t: [M.make_seed(seed_type=t) for _ in range(3)] for t in ["standard", "segwit", "2fa", "2fa_segwit"]}
made["segwit_264"] = [M.make_seed(seed_type="segwit", num_bits=264)]
made["standard_128"] = [M.make_seed(seed_type="standard", num_bits=128)]
# 2fa seeds of other lengths: find 13- and 20-word strings with prefix 101
def find_prefix(prefix, nwords, start):
    import random
    rnd = random.Random(start)
    while True:
        s = " ".join(rnd.choice(M.wordlist) for k in range(nwords))
        if mnemonic.is_new_seed(s, prefix) and not mnemonic.is_old_seed(s):
            return s
fa13 = find_prefix("101", 13, 1000)
fa20 = find_prefix("101", 20, 2000)
fa_sw_13 = find_prefix("102", 13, 3000)

base = "dove yard flock tower palace loop tragic region inner hover list minute"
std = "crouch cherry obtain snake soccer wolf movie parent please economy stone anchor"
seed_inputs = [
    "", " ", "x", base, std, base.upper(), "  " + base.replace(" ", "\t\n ") + "  ",
    base.replace(" ", "\u00a0"), base.replace(" ", "\u3000"), base.replace(" ", "\x1c"),
    base.replace("o", "\u00f6"), base.replace("e", "e\u0301"), base.replace("a", "\uff41"),
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "spiral squeeze strain sunset suspend sympathy thigh throne total unseen weapon weary",
    "0028644c0028644f0028645200286455",
    "0028644C0028644F0028645200286455",
    "00 28 64 4c 00 28 64 4f 00 28 64 52 00 28 64 55",
    "0028644c0028644f00286452002864",
    "0028644c0028644f0028645200286455" * 2,
    "0028644c0028644f0028645200286455 ",
    "0 028644c0028644f0028645200286455",
    "\u03a3\u039f\u03a3 \u039b\u039f\u0393\u039f\u03a3 \u03a3",
    "\u6211 \u7684 \u4f60 abc \u6211 \u7684",
    "\u3042 \u3044 \u3046 \u3048 \u304a",
    "\u0130stanbul K\u212a",
    fa13, fa20, fa_sw_13,
]
for lst in made.values():
    seed_inputs += lst
    seed_inputs.append(lst[0].upper())
# search some strings whose seed type is each new type, with odd unicode
seed_cases = []
for s in seed_inputs:
    seed_cases.append({
        "text": s,
        "normalized": mnemonic.normalize_text(s),
        "seed_type": mnemonic.seed_type(s),
        "bip32_seed_hex": mnemonic.Mnemonic.mnemonic_to_seed(s, "").hex(),
    })
out["seed_cases"] = seed_cases
out["passphrase_case"] = {
    "text": base, "passphrase": "Pass \u00e9 PHRASE",
    "bip32_seed_hex": mnemonic.Mnemonic.mnemonic_to_seed(base, "Pass \u00e9 PHRASE").hex(),
}
out["made_seeds"] = made

# normalize_text on odd strings
norm_inputs = ["A\u0301b\u00c7", "\u03a3\u03a3 a\u03a3. \u03a3'a", "x\u0130y", "\uff21\uff22  \uff43",
               "\u4e00 \u4e01  \u4e02 a \u4e03", "tab\tnl\nvt\x0bff\x0ccr\rfs\x1cgs\x1dus\x1f",
               "\u2028line\u2029para\u0085nel\u200bzw", "\ufb01 \u2460 \u00bd", "A\u03a3\u0345", "\u1e9e\u00df"]
out["normalize_cases"] = [{"text": s, "normalized": mnemonic.normalize_text(s)} for s in norm_inputs]

# english wordlist digest and mnemonic_encode
out["english_sha256"] = hashlib.sha256("\n".join(M.wordlist).encode()).hexdigest()
out["mnemonic_encode"] = [{"int": str(i), "words": M.mnemonic_encode(i)} for i in
                          [1, 2047, 2048, 2**131 + 12345, 2**132 - 1, 3**80]]
out["bip39_checksum"] = [{"text": s, "result": list(keystore.bip39_is_checksum_valid(s))} for s in [
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
    "abandon abandon abandon", base, std, "zoo " * 23 + "vote", "legal winner thank year wave sausage worth useful legal winner thank yellow",
]]

# ------------------------------------------------------------- per network
def try_(f, *a):
    try:
        return f(*a)
    except BaseException:
        return None


def wif_info(k):
    try:
        t, sec, comp = bitcoin.deserialize_privkey(k)
    except BaseException:
        return None
    from electrum import ecc
    pub = ecc.ECPrivkey(sec).get_public_key_hex(compressed=comp)
    addr = try_(bitcoin.pubkey_to_address, t, pub)
    return {"type": t, "compressed": comp, "pubkey": pub, "address": addr}


def restore(text):
    try:
        r = restore_wallet_from_text(text, path=None, config=cfg)
    except BaseException as e:
        return {"error": type(e).__name__}
    w = r["wallet"]
    res = {"wallet": type(w).__name__}
    if w.is_deterministic():
        res["mpk"] = w.get_master_public_key()
        res["receiving"] = w.get_receiving_addresses()[:3]
        res["change"] = w.get_change_addresses()[:2]
        res["txin_type"] = w.txin_type
    else:
        res["addresses"] = w.get_addresses()
        res["txin_types"] = [w.get_txin_type(a) for a in w.get_addresses()]
    res["watching_only"] = w.is_watching_only()
    w.stop() if hasattr(w, "stop") else None
    return res


nets = {}
for name, setter in NETS.items():
    setter()
    net = constants.net
    n = {}
    # a node to make keys of this network
    root = BIP32Node.from_rootseed(bytes(range(32)), xtype="standard")
    keys = []
    for xt in ["standard", "p2wpkh-p2sh", "p2wpkh", "p2wsh", "p2wsh-p2sh"]:
        node = root._replace(xtype=xt).subkey_at_private_derivation("m/44'/1'/0'")
        keys += [node.to_xpub(), node.to_xprv()]
    xprv_bytes = bytearray(bitcoin.DecodeBase58Check(keys[1]))
    xprv_bytes[45] = 7  # Electrum ignores the padding byte
    keys.append(bitcoin.EncodeBase58Check(bytes(xprv_bytes)))
    xpub_bytes = bytearray(bitcoin.DecodeBase58Check(keys[0]))
    xpub_bytes[45] = 0
    keys.append(bitcoin.EncodeBase58Check(bytes(xpub_bytes)))
    xpub_bytes[45] = 2
    xpub_bytes[46:78] = b"\xff" * 32
    keys.append(bitcoin.EncodeBase58Check(bytes(xpub_bytes)))
    keys.append(keys[0][:-1] + ("a" if keys[0][-1] != "a" else "b"))
    # btcd simnet spub/sprv (Electrum: not keys)
    spub = bytearray(bitcoin.DecodeBase58Check(keys[0]))
    spub[0:4] = bytes.fromhex("0420bd3a")
    keys.append(bitcoin.EncodeBase58Check(bytes(spub)))
    old_mpk = keystore.Old_KeyStore({})
    old_mpk.add_seed("0028644c0028644f0028645200286455")
    keys.append(old_mpk.get_master_public_key())
    keys.append(old_mpk.get_master_public_key()[:-2] + "00")
    keys.append(" " + keys[0])
    n["master_keys"] = [{"text": k, "is_master_key": keystore.is_master_key(k),
                         "is_xpub": keystore.is_xpub(k) if hasattr(keystore, "is_xpub") else None}
                        for k in keys]

    # addresses
    pub = root.eckey.get_public_key_hex(compressed=True)
    addrs = [bitcoin.pubkey_to_address(t, pub) for t in ["p2pkh", "p2wpkh", "p2wpkh-p2sh"]]
    addrs.append(bitcoin.redeem_script_to_address("p2wsh", "51"))
    addrs.append(bitcoin.redeem_script_to_address("p2sh", "51"))
    for ver, ln in [(1, 32), (1, 20), (2, 16), (16, 40), (1, 2), (3, 2)]:
        addrs.append(segwit_addr.encode_segwit_address(net.SEGWIT_HRP, ver, bytes(range(ln))))
    extra = []
    for a in addrs:
        extra += [a.upper(), a[:5] + a[5:].upper(), " " + a, a + "\n", a[:-1] + ("q" if a[-1] != "q" else "p")]
    others = ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
              "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7k8dx2sr", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
              "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
              "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", "", "1", "bc1", "garbage",
              "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
              "bc1sw50qgdz25j", "BC1SW50QGDZ25J", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
              "bc1qr508d6qejxtdg4y5r3zarvaryvaxxpcs", "tb1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqgfzyvjz",
              "04" + "ab" * 32, "02" + pub[2:]]
    addr_cases = []
    for a in addrs + extra + others:
        valid = bitcoin.is_address(a)
        addr_cases.append({"address": a, "valid": valid,
                           "script": try_(bitcoin.address_to_script, a) if valid else None})
    n["addresses"] = addr_cases
    scripts = ["76a914" + "11" * 20 + "88ac", "a914" + "22" * 20 + "87", "0014" + "33" * 20, "0020" + "44" * 32,
               "5120" + "55" * 32, "5202" + "6666", "6028" + "77" * 40, "5129" + "88" * 41, "0015" + "99" * 21,
               "76a9144c" + "11" * 20 + "88ac", "a94c14" + "22" * 20 + "87", "21" + "02" + "ab" * 32 + "ac", "6a0401020304",
               "", "00", "0014" + "33" * 20 + "00", "5101" + "aa", "76a914" + "11" * 20 + "88"]
    n["scripts"] = [{"script": s, "address": try_(get_address_from_output_script, bytes.fromhex(s))} for s in scripts]

    # WIF
    sec = bytes(range(1, 33))
    wifs = []
    for t in ["p2pkh", "p2wpkh", "p2wpkh-p2sh", "p2sh", "p2wsh", "p2wsh-p2sh"]:
        wifs.append(bitcoin.serialize_privkey(sec, True, t))
        wifs.append(bitcoin.serialize_privkey(sec, True, t, internal_use=True))
    plain_c = bitcoin.serialize_privkey(sec, True, "p2pkh").split(":")[1]
    plain_u = bitcoin.serialize_privkey(sec, False, "p2pkh").split(":")[1]
    wifs += [plain_c, plain_u, "p2wpkh:" + plain_u, "p2tr:" + plain_c, "P2PKH:" + plain_c, ":" + plain_c,
             plain_c[:-1] + "x", "p2wpkh:" + plain_c + " ",
             "SzavMBLoXU6kDrqtUVmffv", "S6c56bnXQiBjk9mqSYE7ykVQ7NzrRy",  # casascius examples
             "SzavMBLoXU6kDrqtUVmffw",
             bitcoin.EncodeBase58Check(bytes([net.WIF_PREFIX]) + bytes.fromhex("ff" * 32) + b"\x01"),
             bitcoin.EncodeBase58Check(bytes([net.WIF_PREFIX]) + bytes.fromhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141") + b"\x01"),
             bitcoin.EncodeBase58Check(bytes([net.WIF_PREFIX]) + bytes(32) + b"\x01"),
             bitcoin.EncodeBase58Check(bytes([net.WIF_PREFIX]) + sec + b"\x02"),
             bitcoin.EncodeBase58Check(bytes([net.WIF_PREFIX + 3]) + sec + b"\x01")]
    n["wifs"] = [{"text": w, "info": wif_info(w)} for w in wifs]

    # restore_wallet_from_text
    texts = [base, std, " \n" + base + "\t", keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7],
             keys[10], keys[11], keys[-3], keys[-2], " " + keys[0] + "\n", "0028644c0028644f0028645200286455",
             made["2fa"][0], made["2fa_segwit"][0], made["standard"][0], made["segwit"][0],
             " ".join(addrs[:5]), addrs[0] + "\n" + addrs[0].upper() + " " + addrs[1] + " " + addrs[0],
             addrs[0] + " " + "garbage",
             " ".join([wifs[0], wifs[2], wifs[4]]), wifs[6], " ".join([wifs[6], wifs[0]]), plain_c + "\n" + plain_u,
             plain_c + " " + plain_c, "SzavMBLoXU6kDrqtUVmffv", "", "   ", "garbage words here",
             ]
    n["restore"] = [{"text": t, "result": restore(t)} for t in texts]
    nets[name] = n
out["networks"] = nets

json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
sys.stdout.write("\n")
loop.call_soon_threadsafe(stop_loop.set_result, 1)
