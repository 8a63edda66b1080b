package electrum

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultSaveEvery bounds how often the verified header chain is written
// while it changes (Config.SaveEvery).
const DefaultSaveEvery = 10 * time.Second

// restoreHeaders anchors the header chain with the snapshot kept at
// Config.HeadersPath, if there is a usable one: the backend then resumes
// from its tip instead of verifying the chain again from the built-in
// anchor (on Litecoin mainnet, about a million scrypt hashes). A missing
// file is a first start; an unusable one is logged and replaced later.
func (b *Backend) restoreHeaders() {
	path := b.cfg.HeadersPath
	if path == "" || b.hc.Anchored() {
		return
	}
	snap, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		err = b.hc.Restore(snap)
	}
	if err != nil {
		b.log.Warn("electrum: verified header chain not resumed; verifying from the built-in anchor", "path", path, "err", err)
		return
	}
	tip, _ := b.hc.Tip()
	b.mu.Lock()
	b.savedHash, b.savedAt = tip.Hash, time.Now()
	b.mu.Unlock()
	b.log.Info("electrum: verified header chain resumed", "path", path, "height", tip.Height, "hash", tip.Hash)
}

// saveHeaders writes the verified header chain to Config.HeadersPath when
// it changed since the last write and, unless force, SaveEvery has passed
// (at most one write per interval while the chain follows the server). The
// write is atomic (a temporary file renamed over the old one); a failure
// is logged, never fatal: the chain is then verified again on the next
// start.
func (b *Backend) saveHeaders(force bool) {
	path := b.cfg.HeadersPath
	if path == "" {
		return
	}
	b.saveMu.Lock()
	defer b.saveMu.Unlock()
	tip, ok := b.hc.Tip()
	b.mu.Lock()
	due := ok && tip.Hash != b.savedHash && (force || time.Since(b.savedAt) >= b.cfg.SaveEvery)
	b.mu.Unlock()
	if !due {
		return
	}
	snap, tipHeight, ok := b.hc.Snapshot()
	if !ok {
		return
	}
	t0 := time.Now()
	if err := writeFileAtomic(path, snap); err != nil {
		b.log.Warn("electrum: cannot keep the verified header chain", "path", path, "err", err)
		return
	}
	b.mu.Lock()
	b.savedHash, b.savedAt = tip.Hash, time.Now()
	b.mu.Unlock()
	b.log.Debug("electrum: verified header chain kept", "height", tipHeight, "bytes", len(snap), "took", time.Since(t0).Round(time.Millisecond))
}

// writeFileAtomic replaces path with data: written to a temporary file
// beside it, synced, then renamed.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
