package electrum

import (
	"encoding/json"
	"testing"

	"github.com/walletd/walletd/coins/chain"
)

// TestParsePeer: server.peers.subscribe entries are read as Electrum's
// parse_servers and filter_version read them: default ports for bare s/t,
// pruning "-" unless given ("p" alone is "0"), protocol older than 1.4 or
// no port dropped.
func TestParsePeer(t *testing.T) {
	cases := []struct {
		in   string
		want chain.KnownServer
		ok   bool
	}{
		{`["1.2.3.4", "a.example", ["v1.4", "s", "t"]]`, chain.KnownServer{Host: "a.example", SSLPort: 50002, TCPPort: 50001, Pruning: "-", Version: "1.4"}, true},
		{`["1.2.3.4", "b.example", ["v1.5.2", "s50010", "p"]]`, chain.KnownServer{Host: "b.example", SSLPort: 50010, Pruning: "0", Version: "1.5.2"}, true},
		{`["1.2.3.4", "c.example", ["v1.4.1", "t110", "p1000"]]`, chain.KnownServer{Host: "c.example", TCPPort: 110, Pruning: "1000", Version: "1.4.1"}, true},
		{`["1.2.3.4", "old.example", ["v1.2", "s"]]`, chain.KnownServer{}, false},
		{`["1.2.3.4", "nover.example", ["s"]]`, chain.KnownServer{}, false},
		{`["1.2.3.4", "noport.example", ["v1.4"]]`, chain.KnownServer{}, false},
		{`["1.2.3.4", "badport.example", ["v1.4", "s99999"]]`, chain.KnownServer{}, false},
		{`"junk"`, chain.KnownServer{}, false},
		{`["1.2.3.4"]`, chain.KnownServer{}, false},
	}
	for _, c := range cases {
		got, ok := parsePeer(json.RawMessage(c.in))
		if ok != c.ok || got != c.want {
			t.Errorf("%s: %+v %v, want %+v %v", c.in, got, ok, c.want, c.ok)
		}
	}
	for v, want := range map[string]bool{"1.4": true, "1.10": true, "2.0": true, "1.3.9": false, "1": false, "x": false} {
		if recentVersion(v) != want {
			t.Errorf("recentVersion(%q) = %v", v, !want)
		}
	}
}
