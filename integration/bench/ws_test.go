package main

import (
	"strings"
	"testing"
)

// TestWSSmoke runs the websocket benchmark with tiny sizes against a real
// btcd and the real daemon: every client must get exactly its frames, in
// order, named as it registered, and RPC must not fail. It asserts nothing
// about speed.
func TestWSSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd and the daemon")
	}
	cfg := SmokeWSConfig()
	cfg.Log = testWriter{t}
	rep, err := RunWS(t, cfg)
	if rep != nil {
		var b strings.Builder
		rep.printMarkdown(&b)
		t.Logf("report:\n%s", b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 || rep.Phases[1].Frames == 0 || rep.Memory.Clients != cfg.Clients {
		t.Fatalf("incomplete run: %+v", rep)
	}
}
