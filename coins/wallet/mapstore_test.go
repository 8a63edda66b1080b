package wallet

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
)

// mapStore is a small copy-on-write Store for the package's internal tests
// (the memstore package imports this one, so it cannot be used here).
type mapStore struct {
	mu    sync.Mutex
	state *mapState
}

type mapState struct {
	b   map[string]map[string][]byte
	seq map[string]uint64
}

func newMapStore() *mapStore {
	return &mapStore{state: &mapState{b: map[string]map[string][]byte{}, seq: map[string]uint64{}}}
}

func (s *mapStore) View(ctx context.Context, fn func(KV) error) error {
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	return fn(&mapKV{st: st})
}

func (s *mapStore) Update(ctx context.Context, fn func(KV) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &mapState{b: map[string]map[string][]byte{}, seq: map[string]uint64{}}
	for k, m := range s.state.b {
		c.b[k] = map[string][]byte{}
		for kk, v := range m {
			c.b[k][kk] = v
		}
	}
	for k, v := range s.state.seq {
		c.seq[k] = v
	}
	if err := fn(&mapKV{st: c, write: true}); err != nil {
		return err
	}
	s.state = c
	return nil
}

func (s *mapStore) Batch(ctx context.Context, fn func(KV) error) error { return s.Update(ctx, fn) }
func (s *mapStore) Close() error                                       { return nil }

type mapKV struct {
	st    *mapState
	write bool
}

var errMapReadOnly = errors.New("read-only")

func (k *mapKV) Get(b string, key []byte) []byte { return k.st.b[b][string(key)] }
func (k *mapKV) Put(b string, key, val []byte) error {
	if !k.write {
		return errMapReadOnly
	}
	if k.st.b[b] == nil {
		k.st.b[b] = map[string][]byte{}
	}
	k.st.b[b][string(key)] = append([]byte(nil), val...)
	return nil
}
func (k *mapKV) Delete(b string, key []byte) error {
	if !k.write {
		return errMapReadOnly
	}
	delete(k.st.b[b], string(key))
	return nil
}
func (k *mapKV) keys(b string, prefix []byte) []string {
	var out []string
	for key := range k.st.b[b] {
		if strings.HasPrefix(key, string(prefix)) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}
func (k *mapKV) Scan(b string, prefix, start []byte, fn func(k, v []byte) error) error {
	for _, key := range k.keys(b, prefix) {
		if start != nil && key < string(start) {
			continue
		}
		v, ok := k.st.b[b][key]
		if !ok {
			continue
		}
		if err := fn([]byte(key), v); err != nil {
			if errors.Is(err, ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}
func (k *mapKV) ScanReverse(b string, prefix []byte, fn func(k, v []byte) error) error {
	keys := k.keys(b, prefix)
	for i := len(keys) - 1; i >= 0; i-- {
		v, ok := k.st.b[b][keys[i]]
		if !ok {
			continue
		}
		if err := fn([]byte(keys[i]), v); err != nil {
			if errors.Is(err, ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}
func (k *mapKV) NextSequence(b string) (uint64, error) {
	if !k.write {
		return 0, errMapReadOnly
	}
	k.st.seq[b]++
	return k.st.seq[b], nil
}
