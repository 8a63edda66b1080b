package headers

import (
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
)

// BenchmarkExtendLitecoin measures verifying Litecoin headers (scrypt proof
// of work, in parallel over GOMAXPROCS): the cost of a first start on
// LTC mainnet, where about a million headers follow Electrum-LTC's newest
// checkpoint (ns/op is per header).
func BenchmarkExtendLitecoin(b *testing.B) {
	net, err := params.LTC("regtest")
	if err != nil {
		b.Fatal(err)
	}
	r, err := ForNetwork(net)
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	m := newMiner(t, r, time.Unix(1_600_000_000, 0))
	m.mine(ChunkSize-1, 150*time.Second, nil) // regtest does not retarget: stay in the first period
	g := m.hdrs[0].BlockHash()
	rp := *r.Params
	rp.GenesisHash = &g
	r.Params = &rp
	b.ResetTimer()
	for done := 0; done < b.N; {
		c := NewChain(r, 0)
		if err := c.Init(m.hdrs[:1]); err != nil {
			b.Fatal(err)
		}
		n := min(b.N-done, len(m.hdrs)-1)
		if _, err := c.Extend(1, m.hdrs[1:n+1]); err != nil {
			b.Fatal(err)
		}
		done += n
	}
}
