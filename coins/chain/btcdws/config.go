package btcdws

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultReconnectMin = 500 * time.Millisecond
	DefaultReconnectMax = 30 * time.Second
	DefaultCallTimeout  = 30 * time.Second
	DefaultPingInterval = 30 * time.Second
	DefaultFilterChunk  = 10_000
	DefaultEventBuffer  = 256
	DefaultPruneDepth   = 100
)

// Config configures a Backend.
type Config struct {
	// URL is the node's websocket RPC endpoint with credentials:
	// ws://user:pass@host:port or wss://user:pass@host:port. The path
	// defaults to /ws (btcd's). The password is never logged.
	URL string
	// Params are the network parameters used to turn pkScripts into the
	// addresses the node's loadtxfilter and searchrawtransactions take.
	Params *chaincfg.Params
	// AddressOf, when set, replaces the default pkScript → address
	// encoding (btcd's, with Params): a fork whose node wants another
	// address format (bchd's cashaddr) supplies its own. It returns an
	// error for scripts that have no single address.
	AddressOf func(pkScript []byte) (string, error)
	// TLS configures wss:// connections.
	TLS TLSOptions
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// connection attempts (defaults 500ms and 30s).
	ReconnectMin, ReconnectMax time.Duration
	// CallTimeout bounds every call, in addition to the caller's ctx
	// (default 30s).
	CallTimeout time.Duration
	// PingInterval is how often a websocket ping is sent; a node that
	// answers nothing for two intervals is considered gone (default 30s).
	PingInterval time.Duration
	// FilterChunk is the number of addresses sent per loadtxfilter call
	// (default 10,000).
	FilterChunk int
	// EventBuffer is the capacity of the events channel (default 256);
	// events beyond it wait in the backend's unbounded queue.
	EventBuffer int
	// PruneDepth: an outpoint of the filter spent in a block this many
	// blocks below the best one leaves the filter set re-sent on every
	// reconnect (default 100; a reorg deeper than that would not report
	// the coin's spend again).
	PruneDepth int
	// MatchLocally lets a consumer that asks for it (chain.LocalMatcher)
	// match blocks and mempool transactions itself instead of loading
	// its scripts into the node's filter: every block is then read in
	// full and every mempool transaction received (see local.go).
	MatchLocally bool
}

// TLSOptions configures the TLS client of wss:// connections. The server
// certificate is verified against RootCAs (the system roots when nil) unless
// InsecureSkipVerify is set.
type TLSOptions struct {
	// RootCAs are the authorities trusted for the node's certificate;
	// btcd's self-signed rpc.cert goes here. Nil means the system roots.
	RootCAs *x509.CertPool
	// RootCAsFile, when set, names a PEM file whose certificates are
	// trusted for the node's certificate, in addition to RootCAs (with
	// RootCAs nil, only the file's certificates: not the system roots). It
	// is read
	// at every connection attempt, so a node that writes its certificate
	// after walletd starts (a container started beside it) or renews it is
	// picked up on the next attempt; until the file holds a certificate,
	// attempts fail and are retried with the usual backoff.
	RootCAsFile string
	// ServerName overrides the name checked in the certificate (default:
	// the URL's host).
	ServerName string
	// InsecureSkipVerify accepts any certificate. Only for explicit
	// operator opt-in: it makes the connection open to interception.
	InsecureSkipVerify bool
}

// endpoint is a parsed Config.URL.
type endpoint struct {
	dialURL  string // without credentials
	redacted string // for logs
	auth     string // Authorization header value, "" when none
	host     string
	tls      bool
}

func parseURL(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the input, password included: don't wrap.
		return endpoint{}, errors.New("btcdws: invalid server URL")
	}
	var ep endpoint
	switch u.Scheme {
	case "ws":
	case "wss":
		ep.tls = true
	default:
		return endpoint{}, fmt.Errorf("btcdws: unsupported URL scheme %q (want ws or wss)", u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return endpoint{}, fmt.Errorf("btcdws: server URL needs host:port, got %q", u.Host)
	}
	ep.host = host
	if u.User != nil {
		pass, _ := u.User.Password()
		ep.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))
	}
	ep.redacted = u.Redacted()
	d := *u
	d.User = nil
	if d.Path == "" || d.Path == "/" {
		d.Path = "/ws"
	}
	ep.dialURL = d.String()
	return ep, nil
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

// dialTLSConfig is the TLS configuration of one connection attempt: base
// (tlsConfig's) with RootCAsFile's certificates read now and added to the
// trusted roots. It is base itself when there is no file to read.
func (c *Config) dialTLSConfig(base *tls.Config) (*tls.Config, error) {
	if base == nil || c.TLS.RootCAsFile == "" {
		return base, nil
	}
	pem, err := os.ReadFile(c.TLS.RootCAsFile)
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if c.TLS.RootCAs != nil {
		pool = c.TLS.RootCAs.Clone()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("node certificate: no PEM certificate in %s", c.TLS.RootCAsFile)
	}
	tc := base.Clone()
	tc.RootCAs = pool
	return tc, nil
}

// defaultAddressOf encodes pkScript as the single address btcd's filter
// matches it by; P2PK scripts map to their key's P2PKH address (btcd's filter
// matches both), bare multisig and non-standard scripts have none.
func defaultAddressOf(params *chaincfg.Params) func([]byte) (string, error) {
	return func(pkScript []byte) (string, error) {
		if a, ok := segwitV0Address(pkScript, params.Bech32HRPSegwit); ok {
			return a, nil
		}
		class, addrs, _, err := txscript.ExtractPkScriptAddrs(pkScript, params)
		if err != nil {
			return "", err
		}
		if len(addrs) != 1 || class == txscript.MultiSigTy {
			return "", fmt.Errorf("script class %v has no single address", class)
		}
		return addrs[0].EncodeAddress(), nil
	}
}

// segwitV0Address encodes a version-0 witness program script (P2WPKH,
// P2WSH: a new wallet's usual scripts) as its bech32 address directly:
// btcd's EncodeAddress gives the same string but also decodes it again to
// check it, and ExtractPkScriptAddrs allocates an address value first
// (together 7% of the daemon's CPU in a cold load, which encodes 30).
func segwitV0Address(pkScript []byte, hrp string) (string, bool) {
	if len(pkScript) != 22 && len(pkScript) != 34 || pkScript[0] != txscript.OP_0 ||
		int(pkScript[1]) != len(pkScript)-2 || hrp == "" {
		return "", false
	}
	conv, err := bech32.ConvertBits(pkScript[2:], 8, 5, true)
	if err != nil {
		return "", false
	}
	a, err := bech32.Encode(hrp, append([]byte{0}, conv...))
	return a, err == nil
}
