package electrum

import (
	"errors"
	"time"

	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultReconnectMin   = 500 * time.Millisecond
	DefaultReconnectMax   = 30 * time.Second
	DefaultCallTimeout    = 30 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultSessionScripts = 2_000
	DefaultWindow         = 100
	DefaultSettle         = 250 * time.Millisecond
	DefaultMaxSettle      = 5 * time.Second
	DefaultStatusGrace    = 15 * time.Second
	DefaultBanTime        = 30 * time.Minute
	DefaultEventBuffer    = 256
)

// The floors of the sessions' size and window when a server throttles
// the backend (see Config.SessionScripts).
const (
	MinSessionScripts = 250
	MinWindow         = 10
)

// Config configures a Backend.
type Config struct {
	// Servers are the Electrum servers in order of preference: the first
	// one that answers is the main server; the next ones take over when
	// it fails or lies.
	Servers []servers.Server
	// OneServer keeps the backend on Servers[0] only (Bitcart's
	// <COIN>_ONESERVER, Electrum's --oneserver): no failover.
	OneServer bool
	// Rules verify the coin's headers (headers.ForNetwork).
	Rules *headers.Rules
	// Pins holds the pinned certificates of SSL servers (nil: a fresh
	// in-memory store).
	Pins *servers.Pins

	// ReconnectMin and ReconnectMax bound the backoff between rounds of
	// connection attempts (defaults 500 ms and 30 s).
	ReconnectMin, ReconnectMax time.Duration
	// CallTimeout bounds every request (default 30 s).
	CallTimeout time.Duration
	// PingInterval is how often each session is pinged; a server that
	// does not answer within CallTimeout is dropped (default 30 s).
	PingInterval time.Duration
	// SessionScripts is the most scripts subscribed on one session; more
	// scripts open more sessions to the same server (default 2,000).
	//
	// The default stays below what ElectrumX's default per-session cost
	// limits let one session hold without being slowed down: each
	// subscription costs a session about 0.33 (COST_SOFT_LIMIT 1,000
	// throttles from about 3,000 subscriptions; with requests queued
	// behind the throttle the server answers "server busy" and, past
	// COST_HARD_LIMIT 10,000, "excessive resource usage" and closes the
	// session; see the README's "Electrum servers"). A server that
	// throttles the backend anyway (-101, -102) is not a liar: the link
	// is dropped, the next one to that server uses half the sessions'
	// size and window (down to MinSessionScripts and MinWindow), and the
	// backend backs off before it reconnects.
	SessionScripts int
	// Window is the most requests in flight per session during bulk work
	// (subscribing, fetching histories; default 100: ElectrumX works on
	// 10 requests of a session at a time, and one waiting more than its
	// REQUEST_TIMEOUT, 30 s, fails with "server busy").
	Window int
	// Settle is how long the backend waits after a new block's header for
	// the server's status notifications to stop before it reports the
	// block with its transactions (default 250 ms); MaxSettle bounds the
	// wait when notifications keep coming (default 5 s).
	Settle, MaxSettle time.Duration
	// StatusGrace is how long a scripthash's history may disagree with the
	// status the server announced (or a claimed confirmation go without
	// proof) before the server counts as lying (default 15 s).
	StatusGrace time.Duration
	// BanTime is how long a server caught lying is skipped while others
	// are available (default 30 min).
	BanTime time.Duration
	// EventBuffer is the events channel's capacity (default 256); more
	// events wait in an unbounded queue.
	EventBuffer int
	// KeepHeaders is how many recent headers are kept in memory
	// (default headers.DefaultKeep).
	KeepHeaders int
	// HeadersPath is the file where the verified header chain (the kept
	// headers and the hashes ending older retarget periods, about 400 kB
	// on LTC mainnet) is kept between runs, so that a restart resumes from its tip instead
	// of verifying the chain again from the built-in checkpoint; "" keeps
	// nothing. It is written atomically, at most every SaveEvery while the
	// chain changes, and at Close.
	HeadersPath string
	// SaveEvery bounds how often HeadersPath is written (default
	// DefaultSaveEvery).
	SaveEvery time.Duration
}

func (c *Config) applyDefaults() error {
	if len(c.Servers) == 0 {
		return errors.New("electrum: no server configured")
	}
	if c.Rules == nil {
		return errors.New("electrum: Config.Rules is required")
	}
	if c.Pins == nil {
		c.Pins = servers.NewPins("", nil)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReconnectMin, DefaultReconnectMin)
	def(&c.ReconnectMax, DefaultReconnectMax)
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = c.ReconnectMin
	}
	def(&c.CallTimeout, DefaultCallTimeout)
	def(&c.PingInterval, DefaultPingInterval)
	def(&c.Settle, DefaultSettle)
	def(&c.MaxSettle, DefaultMaxSettle)
	def(&c.StatusGrace, DefaultStatusGrace)
	def(&c.BanTime, DefaultBanTime)
	def(&c.SaveEvery, DefaultSaveEvery)
	if c.SessionScripts <= 0 {
		c.SessionScripts = DefaultSessionScripts
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	return nil
}
