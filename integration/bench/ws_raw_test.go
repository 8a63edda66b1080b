//go:build linux

package main

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverFrame encodes an unmasked, final server frame.
func serverFrame(op byte, payload string) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

func event(seq uint64, wallet string) string {
	return fmt.Sprintf(`{"updates":[{"event":"new_payment","status":3,"pad":"%s","seq":%d}],"wallet":%s,"currency":"BTC"}`,
		strings.Repeat("x", 150), seq, wallet)
}

// TestRawClientFrames feeds a raw client's parser a stream cut at every
// byte: it must find each text frame whole (short and 16-bit lengths),
// answer a ping with a masked pong carrying its payload, note the close
// frame, and keep the frames not taken.
func TestRawClientFrames(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[1])
	var stream []byte
	stream = append(stream, serverFrame(0x1, `{"seq":1}`)...)
	stream = append(stream, serverFrame(0x9, "hi")...)
	stream = append(stream, serverFrame(0x1, event(2, "null"))...) // > 125 bytes
	stream = append(stream, serverFrame(0x1, `{"seq":3}`)...)
	stream = append(stream, serverFrame(0x8, "\x03\xf0too slow")...)
	for cut := 1; cut < len(stream); cut++ {
		c := &rawWS{fd: fds[0], key: -1}
		c.log = append(c.log, stream[:cut]...)
		c.parse(time.Millisecond)
		c.log = append(c.log, stream[cut:]...)
		c.parse(2 * time.Millisecond)
		if len(c.frames) != 3 || c.closeCode != 1008 || c.closeText != "too slow" || c.bad != "" {
			t.Fatalf("cut %d: %d frames, close %d %q, bad %q", cut, len(c.frames), c.closeCode, c.closeText, c.bad)
		}
		// The pong: masked, final, opcode 10, payload "hi".
		pong := make([]byte, 64)
		n, err := syscall.Read(fds[1], pong)
		if err != nil || n != 8 || pong[0] != 0x8A || pong[1] != 0x80|2 {
			t.Fatalf("cut %d: pong % x (%v)", cut, pong[:max(n, 0)], err)
		}
		if got := []byte{pong[6] ^ pong[2], pong[7] ^ pong[3]}; string(got) != "hi" {
			t.Fatalf("cut %d: pong payload %q", cut, got)
		}
		var seqs []uint64
		if err := c.take(2, func(p []byte, at time.Duration) error {
			s, _ := frameSeq(p)
			seqs = append(seqs, s)
			return nil
		}); err != nil || fmt.Sprint(seqs) != "[1 2]" {
			t.Fatalf("cut %d: took %v, %v", cut, seqs, err)
		}
		if len(c.frames) != 1 || string(c.log[c.frames[0].off:c.frames[0].off+c.frames[0].n]) != `{"seq":3}` {
			t.Fatalf("cut %d: kept %d frames", cut, len(c.frames))
		}
		wantAt := 2 * time.Millisecond
		if cut >= len(stream)-len(serverFrame(0x8, "\x03\xf0too slow")) {
			wantAt = time.Millisecond // the third frame was whole in the first read
		}
		if c.frames[0].at != wantAt {
			t.Fatalf("cut %d: frame 3 arrived at %v, want %v (the read that completed it)", cut, c.frames[0].at, wantAt)
		}
	}
}

// TestCheckRoundCatchesBadFrames: the check after a burst must accept
// exactly the reference's frames, filtered, in order, and refuse a frame
// whose content differs, frames out of order, and another wallet's frame
// sent to a filtered client.
func TestCheckRoundCatchesBadFrames(t *testing.T) {
	ref := &benchWS{}
	w := &wsRun{ref: ref, keyIdx: map[string]int32{"k0": 0, "k1": 1}, base: time.Now()}
	for seq, wal := range map[uint64]string{1: `"k0"`, 2: `"k1"`, 3: "null"} {
		raw := event(seq, wal)
		rec, err := w.parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		rec.raw = []byte(raw)
		ref.recs = append(ref.recs, rec)
	}
	slices.SortFunc(ref.recs, func(a, b wsRec) int { return cmp.Compare(a.seq, b.seq) })
	client := func(key int32, frames ...string) *rawWS {
		c := &rawWS{fd: -1, key: key}
		for _, f := range frames {
			c.log = append(c.log, serverFrame(0x1, f)...)
		}
		c.parse(time.Millisecond)
		return c
	}
	cases := []struct {
		name string
		c    *rawWS
		err  string
	}{
		{"unfiltered, exact", client(-1, event(1, `"k0"`), event(2, `"k1"`), event(3, "null")), ""},
		{"filtered, exact", client(1, event(2, `"k1"`), event(3, "null")), ""},
		{"content differs", client(-1, event(1, `"k0"`), event(2, `"k0"`), event(3, "null")), "not the reference's frame"},
		{"out of order", client(-1, event(2, `"k1"`), event(1, `"k0"`), event(3, "null")), "seq 1 after 2"},
		{"another wallet's frame", client(0, event(1, `"k0"`), event(2, `"k1"`)), "naming wallet 1"},
	}
	for _, tc := range cases {
		w.clients = []*rawWS{tc.c}
		n, _, _, err := w.checkRound(0, 3, 0, nil)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == "" && n != 3+map[int32]int{-1: 3, 1: 2}[tc.c.key]:
			t.Errorf("%s: %d deliveries", tc.name, n)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.err)
		}
	}
}
