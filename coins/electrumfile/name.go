package electrumfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
)

// SafeName names the file at path in a message: its base name, unless that
// name may be key material (Bitcart names a wallet's file after the key
// string the merchant sent: a seed, an xprv or a WIF list become file
// names), in which case the name is withheld and the file is named by its
// folder and a short hash of its name.
func SafeName(path string) string {
	base := filepath.Base(path)
	if !mayBeKeyMaterial(base) {
		return base
	}
	return withheld(path)
}

func withheld(path string) string {
	sum := sha256.Sum256([]byte(filepath.Base(path)))
	return fmt.Sprintf("the wallet file #%s in %s (its name is key material: withheld)", hex.EncodeToString(sum[:4]), filepath.Dir(path))
}

// nameFor names a parsed wallet: its file name unless that name is, or
// shares a word with, one of the file's secrets, or has the shape of key
// material; then its master public key or first address.
func nameFor(fileName string, w *Wallet, secrets []string) string {
	if fileName != "" && !mayBeKeyMaterial(fileName) && !sharesSecret(fileName, secrets) {
		return fileName
	}
	switch {
	case w.XPub != "":
		return "wallet " + w.XPub
	case len(w.Addresses) == 1:
		return "imported wallet " + w.Addresses[0]
	case len(w.Addresses) > 1:
		return fmt.Sprintf("imported wallet %s (+%d addresses)", w.Addresses[0], len(w.Addresses)-1)
	}
	return "wallet"
}

// sharesSecret reports whether name contains a secret, is part of one, or
// has a word in common with one (a seed word).
func sharesSecret(name string, secrets []string) bool {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(name, s) || strings.Contains(s, name) {
			return true
		}
		words := map[string]bool{}
		for _, t := range strings.FieldsFunc(s, unicode.IsSpace) {
			words[strings.ToLower(t)] = true
		}
		for _, t := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if words[strings.ToLower(t)] {
				return true
			}
		}
	}
	return false
}

// privatePrefixes are the SLIP-132 prefixes of extended private keys.
var privatePrefixes = []string{"xprv", "yprv", "zprv", "Yprv", "Zprv", "tprv", "uprv", "vprv", "Uprv", "Vprv"}

// mayBeKeyMaterial reports whether a file name has the shape of a secret
// Bitcart could have named a file after: several words (a seed, a key
// list), an extended private key, a WIF (with or without Electrum's
// "p2wpkh:" prefix), a minikey or a raw hex key.
func mayBeKeyMaterial(name string) bool {
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.Contains(name, ":") {
		return true
	}
	for _, p := range privatePrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch {
	case (len(name) == 51 || len(name) == 52) && isBase58(name):
		return true // WIF
	case (len(name) == 22 || len(name) == 26 || len(name) == 30) && name[0] == 'S' && isBase58(name):
		return true // minikey
	case len(name) == 64 && isHex(name):
		return true
	}
	return false
}

func isBase58(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", r) {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
