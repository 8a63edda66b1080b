package corerpc

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultPollInterval is how often the tip and the mempool are polled
	// without ZMQ: a mempool payment is seen within this interval plus a
	// few milliseconds.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultPollIntervalZMQ is the safety poll when ZMQ notifications
	// drive the backend (they may be lost: ZMQ drops messages under load
	// and across reconnects).
	DefaultPollIntervalZMQ = 2 * time.Second
	DefaultReconnectMin    = 250 * time.Millisecond
	DefaultReconnectMax    = 30 * time.Second
	DefaultCallTimeout     = 30 * time.Second
	DefaultEventBuffer     = 256
	// DefaultMaxRequests is Config.MaxRequests's default: below Core's
	// default work queue (16 requests) and btcd's rpcmaxclients (10), so
	// that the daemon alone never overflows either.
	DefaultMaxRequests = 8
	// DefaultPruneDepth is Config.PruneDepth's default.
	DefaultPruneDepth = 100
	// DefaultMempoolSummaries is Config.MempoolSummaries's default.
	DefaultMempoolSummaries = 32 << 20
	// DefaultScanParallel is how many blocks a backfill scan fetches at
	// once (Core serves 4 RPC threads by default).
	DefaultScanParallel = 4
	// BirthdayTip, as Config.Birthday, starts backfill scans at the node's
	// tip when the backend first connected (only blocks mined since the
	// process started are scanned).
	BirthdayTip int32 = -1
)

// Config configures a Backend.
type Config struct {
	// URL is the node's JSON-RPC endpoint: http://user:pass@host:port or
	// https://… (a TLS proxy in front of the node, or btcd's own TLS). The
	// password is never logged. Without credentials in the URL, CookieFile
	// is used.
	URL string
	// CookieFile is the node's RPC cookie (<datadir>/.cookie, or
	// <datadir>/regtest/.cookie), read at each connection attempt and again
	// when the node answers 401 (it changes at every node restart). Used
	// only when URL carries no user.
	CookieFile string
	// PollInterval is how often the tip and the mempool are polled
	// (default DefaultPollInterval, or DefaultPollIntervalZMQ with ZMQ).
	PollInterval time.Duration
	// ZMQ lists the node's ZMQ publisher endpoints (tcp://host:port), as
	// given to -zmqpubrawtx, -zmqpubrawblock, -zmqpubhashblock or
	// -zmqpubsequence; each is subscribed to all four topics. Notifications
	// wake the poller at once and carry raw transactions so they need not
	// be fetched.
	ZMQ []string
	// Birthday is the first block height a backfill (History) scans when
	// the node serves no block filters or when filters are used too: 0
	// scans the whole chain; BirthdayTip (-1, and any negative value)
	// scans from the tip seen at the first connection.
	Birthday int32
	// Filters chooses the backfill method: "auto" (default: BIP158 block
	// filters when the node serves getblockfilter, else full blocks),
	// "bip158" (require filters: History fails without them) or "blocks"
	// (always read full blocks).
	Filters string
	// TLS configures https:// connections.
	TLS TLSOptions
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// connection attempts (defaults 250ms and 30s).
	ReconnectMin, ReconnectMax time.Duration
	// CallTimeout bounds every RPC call, in addition to the caller's ctx
	// (default 30s).
	CallTimeout time.Duration
	// MaxRequests is how many HTTP requests may be in flight to the node
	// at once (default DefaultMaxRequests); more wait for one to finish.
	// A node answering busy all the same (another client filled its
	// queue) is asked again until CallTimeout.
	MaxRequests int
	// EventBuffer is the capacity of the events channel (default 256).
	// When it is full the poller waits: events are never dropped.
	EventBuffer int
	// ScanParallel is how many blocks a backfill scan fetches at once
	// (default 4).
	ScanParallel int
	// SummaryCache bounds the memory (bytes) of the summaries kept of the
	// blocks read whole (8 bytes per output and per input): a later
	// backfill without block filters reads again only the blocks whose
	// summary may hold its scripts. Default DefaultSummaryCache (64 MiB);
	// negative disables it.
	SummaryCache int64
	// MempoolSummaries bounds the memory (bytes) of the summaries kept of
	// the node's mempool transactions (8 bytes per output and input), with
	// which History fetches only the mempool transactions that may pay
	// its scripts; those past the bound are fetched by every History.
	// Default DefaultMempoolSummaries (32 MiB, about 1,000,000
	// two-in two-out transactions); negative keeps none.
	MempoolSummaries int64
	// PruneDepth: an outpoint of the watched set (an output paying a
	// watched script) spent in a block this many blocks below the best
	// one leaves the set (default DefaultPruneDepth, 100; a
	// reorganisation deeper than that would not report the coin's spend
	// again).
	PruneDepth int
}

// TLSOptions configures the TLS client of https:// connections. The server
// certificate is verified against RootCAs (the system roots when nil) unless
// InsecureSkipVerify is set.
type TLSOptions struct {
	// RootCAs are the authorities trusted for the node's certificate.
	RootCAs *x509.CertPool
	// ServerName overrides the name checked in the certificate.
	ServerName string
	// InsecureSkipVerify accepts any certificate (explicit operator
	// opt-in only).
	InsecureSkipVerify bool
}

// Backfill method names, as reported by BackfillStatus.
const (
	MethodBIP158 = "bip158"
	MethodBlocks = "blocks"
)

// endpoint is a parsed Config.URL.
type endpoint struct {
	postURL  string // without credentials
	redacted string
	user     string
	pass     string
	host     string
	tls      bool
}

func parseURL(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the input, password included: don't wrap.
		return endpoint{}, errors.New("corerpc: invalid server URL")
	}
	var ep endpoint
	switch u.Scheme {
	case "http":
	case "https":
		ep.tls = true
	default:
		return endpoint{}, fmt.Errorf("corerpc: unsupported URL scheme %q (want http or https)", u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return endpoint{}, fmt.Errorf("corerpc: server URL needs host:port, got %q", u.Host)
	}
	ep.host = host
	if u.User != nil {
		ep.user = u.User.Username()
		ep.pass, _ = u.User.Password()
	}
	ep.redacted = u.Redacted()
	d := *u
	d.User = nil
	if d.Path == "" {
		d.Path = "/"
	}
	ep.postURL = d.String()
	return ep, nil
}

// readCookie reads a Core RPC cookie file ("user:password").
func readCookie(path string) (user, pass string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("corerpc: read cookie: %w", err)
	}
	user, pass, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	if !ok || user == "" {
		return "", "", fmt.Errorf("corerpc: cookie file %s is not user:password", path)
	}
	return user, pass, nil
}

func (c *Config) tlsConfig(ep endpoint) *tls.Config {
	if !ep.tls {
		return nil
	}
	name := c.TLS.ServerName
	if name == "" {
		name = ep.host
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            c.TLS.RootCAs,
		ServerName:         name,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify, //nolint:gosec // explicit operator option
	}
}

// withDefaults validates c and fills zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
		if len(c.ZMQ) > 0 {
			c.PollInterval = DefaultPollIntervalZMQ
		}
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = c.ReconnectMin
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	if c.MaxRequests <= 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.ScanParallel <= 0 {
		c.ScanParallel = DefaultScanParallel
	}
	if c.PruneDepth <= 0 {
		c.PruneDepth = DefaultPruneDepth
	}
	if c.MempoolSummaries == 0 {
		c.MempoolSummaries = DefaultMempoolSummaries
	}
	if c.SummaryCache == 0 {
		c.SummaryCache = DefaultSummaryCache
	}
	switch strings.ToLower(c.Filters) {
	case "", "auto":
		c.Filters = "auto"
	case MethodBIP158, MethodBlocks:
		c.Filters = strings.ToLower(c.Filters)
	default:
		return c, fmt.Errorf("corerpc: filters %q: want auto, bip158 or blocks", c.Filters)
	}
	if c.Birthday < 0 {
		c.Birthday = BirthdayTip
	}
	for _, z := range c.ZMQ {
		if _, err := parseZMQEndpoint(z); err != nil {
			return c, err
		}
	}
	return c, nil
}
