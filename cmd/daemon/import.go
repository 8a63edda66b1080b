package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/walletd/walletd/coins/electrumfile"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/utxo"
)

// importCommand is the subcommand that migrates Bitcart's Electrum wallet
// files: `daemon btc import-electrum [-dry-run] PATH…`.
const importCommand = "import-electrum"

// importSyncWait bounds how long the import waits for the engine to catch
// up with the node before it starts.
const importSyncWait = 10 * time.Minute

// importWallet is one parsed wallet file ready to import.
type importWallet struct {
	file   *electrumfile.Wallet
	keyStr string // public key material naming the wallet in walletd
}

// runImport imports the Electrum wallet files (or folders of them) named by
// args into the daemon's store, with the daemon's configuration, while the
// daemon is stopped. It returns the exit code: 0 when every file was
// imported, 1 when some failed (the others are imported), 2 for bad usage.
func runImport(ctx context.Context, def coinDef, cfg utxo.Config, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(importCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "read and check the files, print what would be imported, change nothing")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: daemon <coin> %s [-dry-run] PATH…\n"+
			"PATH is an Electrum wallet file or a folder of them (Bitcart: <data>/wallets on mainnet, <data>/<network>/wallets otherwise).\n"+
			"Run it while the daemon is stopped, with the daemon's configuration (%s_NETWORK, %s_DATA_PATH, %s_SERVER).\n",
			importCommand, def.prefix, def.prefix, def.prefix)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	net, err := btcNetwork(def, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", importCommand, err)
		return 2
	}
	paths, failed := walletFiles(fs.Args(), stderr)
	var wallets []importWallet
	for _, p := range paths {
		w, err := readWallet(p, net)
		if err != nil {
			fmt.Fprintf(stderr, "error: %s: %v\n", electrumfile.SafeName(p), err)
			failed++
			continue
		}
		wallets = append(wallets, w)
	}
	if *dryRun {
		for _, w := range wallets {
			reportWallet(stdout, stderr, w, nil, nil)
		}
		fmt.Fprintf(stdout, "dry run: %d wallets readable, %d files failed; nothing was written\n", len(wallets), failed)
		return exitCode(failed)
	}
	if len(wallets) == 0 {
		fmt.Fprintf(stderr, "%s: no wallet to import\n", importCommand)
		return 1
	}
	if cfg.Server == "" {
		fmt.Fprintf(stderr, "%s: %s_SERVER is unset: the import reads each wallet's history from the node, so that "+
			"request statuses and balances are right; set it as for the daemon (use -dry-run to only check the files)\n",
			importCommand, def.prefix)
		return 2
	}
	lvl := slog.LevelWarn
	if cfg.Debug {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	d, err := def.build(ctx, cfg, log)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			fmt.Fprintf(stderr, "%s: the daemon's store in %s is in use: stop the running daemon first, then import\n", importCommand, cfg.DataPath)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", importCommand, err)
		}
		return 1
	}
	defer func() {
		if err := d.Close(); err != nil {
			fmt.Fprintf(stderr, "%s: closing the store: %v\n", importCommand, err)
		}
	}()
	if err := d.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "%s: connecting to the node: %v\n", importCommand, err)
		return 1
	}
	eng := d.Engine()
	if err := waitEngine(ctx, eng); err != nil {
		fmt.Fprintf(stderr, "%s: the node: %v\n", importCommand, err)
		return 1
	}
	imported := 0
	for _, w := range wallets {
		if err := importOne(ctx, eng, w, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "error: %s: %v\n", w.file.Name, err)
			failed++
			continue
		}
		imported++
	}
	fmt.Fprintf(stdout, "imported %d of %d wallets into %s\n", imported, len(wallets)+failed-(len(wallets)-imported), cfg.DataPath)
	return exitCode(failed)
}

func exitCode(failed int) int {
	if failed > 0 {
		return 1
	}
	return 0
}

// btcNetwork returns the network parameters of the configured network.
func btcNetwork(def coinDef, cfg utxo.Config) (*params.Network, error) {
	if def.prefix != "BTC" {
		return nil, fmt.Errorf("only BTC wallets (Electrum) can be imported")
	}
	return params.BTC(cfg.Network)
}

// walletFiles expands folders into the regular files they hold (Electrum's
// temporary files left out) and returns the paths and how many arguments
// could not be read.
func walletFiles(args []string, stderr io.Writer) ([]string, int) {
	var out []string
	failed := 0
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			fmt.Fprintf(stderr, "error: %s: %v\n", electrumfile.SafeName(a), errors.Unwrap(err))
			failed++
			continue
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			fmt.Fprintf(stderr, "error: %s: %v\n", a, err)
			failed++
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if !e.Type().IsRegular() || strings.HasPrefix(n, ".") || strings.Contains(n, ".tmp.") {
				continue
			}
			out = append(out, filepath.Join(a, n))
		}
	}
	return out, failed
}

// readWallet parses a file and checks its key material against walletd's
// own derivation on this network: every address Electrum derived must be
// the one walletd derives at the same index.
func readWallet(path string, net *params.Network) (importWallet, error) {
	f, err := electrumfile.Read(path)
	if err != nil {
		return importWallet{}, err
	}
	w := importWallet{file: f}
	switch f.Kind {
	case electrumfile.KindDeterministic:
		mat, err := keys.Parse(f.XPub, net)
		if err != nil {
			return w, fmt.Errorf("its master public key is not usable on %s: %w", net.Name, err)
		}
		for _, c := range []struct {
			change bool
			addrs  []string
		}{{false, f.Receiving}, {true, f.Change}} {
			for i, a := range c.addrs {
				k, err := mat.Derive(c.change, uint32(i))
				if err != nil || k.Address != a {
					return w, fmt.Errorf("its address %s is not the one walletd derives from its master public key (chain %v, index %d)", a, c.change, i)
				}
			}
		}
		w.keyStr = f.XPub
	case electrumfile.KindImported:
		for _, a := range f.Addresses {
			if !net.ValidAddress(a) {
				return w, fmt.Errorf("its address %s is not a %s address", a, net.Name)
			}
		}
		w.keyStr = strings.Join(f.Addresses, " ")
		if _, err := keys.Parse(w.keyStr, net); err != nil {
			return w, err
		}
	}
	return w, nil
}

// waitEngine waits until the engine has caught up with the node.
func waitEngine(ctx context.Context, eng *wallet.Engine) error {
	ctx, cancel := context.WithTimeout(ctx, importSyncWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !eng.Synced() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not synchronized after %v: %w", importSyncWait, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// importOne imports one wallet and prints what it did.
func importOne(ctx context.Context, eng *wallet.Engine, w importWallet, stdout, stderr io.Writer) error {
	ww, err := eng.Open(ctx, w.keyStr)
	if err != nil {
		return err
	}
	now := time.Now()
	reqs := make([]wallet.ImportedRequest, 0, len(w.file.Requests))
	for _, r := range w.file.Requests {
		reqs = append(reqs, wallet.ImportedRequest{ID: r.ID, Address: r.Address, Amount: r.AmountSat, Memo: r.Message,
			Timestamp: r.Time, Expiry: r.Exp, Status: r.StatusAt(now), Sent: r.Sent, TxHashes: r.TxHashes})
	}
	res, err := ww.ImportRequests(ctx, reqs, wallet.ImportOptions{Receiving: uint32(len(w.file.Receiving)), Change: uint32(len(w.file.Change))})
	if err != nil {
		return err
	}
	statuses := map[string]int{}
	for _, r := range w.file.Requests {
		v, err := ww.GetRequest(ctx, r.ID)
		if err != nil {
			continue // skipped: reported below
		}
		statuses[r.ID] = v.Status
	}
	reportWallet(stdout, stderr, w, &res, statuses)
	return nil
}

var statusNames = map[int]string{wallet.StatusUnpaid: "unpaid", wallet.StatusExpired: "expired",
	wallet.StatusPaid: "paid", wallet.StatusUnconfirmed: "unconfirmed", wallet.StatusUnknown: "unknown"}

// reportWallet prints one wallet's summary and its warnings; res and
// statuses are nil in a dry run.
func reportWallet(stdout, stderr io.Writer, w importWallet, res *wallet.ImportResult, statuses map[string]int) {
	f := w.file
	now := time.Now()
	count := map[string]int{}
	for _, r := range f.Requests {
		st := r.StatusAt(now)
		if statuses != nil {
			var ok bool
			if st, ok = statuses[r.ID]; !ok {
				continue
			}
		}
		count[statusNames[st]]++
	}
	var parts []string
	for name, n := range count {
		parts = append(parts, fmt.Sprintf("%d %s", n, name))
	}
	sort.Strings(parts)
	if res == nil {
		fmt.Fprintf(stdout, "%s: %s wallet (Electrum seed_version %d), %d requests to import (%s)\n",
			f.Name, f.Kind, f.SeedVersion, len(f.Requests), strings.Join(parts, ", "))
	} else {
		fmt.Fprintf(stdout, "%s: %d requests imported, %d already there (%s)\n",
			f.Name, len(res.Added), len(res.Existing), strings.Join(parts, ", "))
		for _, s := range res.Skipped {
			fmt.Fprintf(stderr, "warning: %s: request %s not imported: %v\n", f.Name, s.ID, s.Err)
		}
		for _, r := range f.Requests {
			if st, ok := statuses[r.ID]; ok && st != r.StatusAt(now) {
				fmt.Fprintf(stdout, "%s: request %s was %s in Electrum, is %s on the chain now\n",
					f.Name, r.ID, statusNames[r.StatusAt(now)], statusNames[st])
			}
		}
	}
	for _, s := range f.Skipped {
		fmt.Fprintf(stderr, "warning: %s: request %s not imported: %s\n", f.Name, s.ID, s.Reason)
	}
	if f.HasSecrets() {
		fmt.Fprintf(stderr, "warning: %s: its %s were not imported: walletd never stores secrets; "+
			"the merchant's calls carry the key with each call, as with Bitcart\n", f.Name, strings.Join(f.Dropped, ", "))
	}
	for _, d := range f.Dropped {
		if d == "seed passphrase" {
			fmt.Fprintf(stderr, "warning: %s: its seed has a passphrase (seed extension): a call naming the wallet by its seed "+
				"alone reaches another wallet; name it by its master public key\n", f.Name)
		}
	}
}
