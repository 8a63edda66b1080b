// Package servers parses Electrum server addresses in the forms Bitcart and
// Electrum accept, lists the well-known public servers of each network
// (Electrum's and Electrum-LTC's servers.json), and implements the TLS
// policy for connecting to them.
package servers

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrBadAddress is wrapped by every parse error.
var ErrBadAddress = errors.New("bad Electrum server address")

// Server is one Electrum server.
type Server struct {
	Host string
	Port int
	// TLS selects SSL ("s") rather than plain TCP ("t").
	TLS bool
	// Public marks a server from the built-in list (not configured by the
	// operator).
	Public bool
}

// Addr is host:port for dialing.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// String is Electrum's form, host:port:s or host:port:t.
func (s Server) String() string {
	p := "t"
	if s.TLS {
		p = "s"
	}
	return s.Addr() + ":" + p
}

// Parse reads a comma-separated list of servers. Each one is Electrum's and
// Bitcart's host:port:s (SSL) or host:port:t (TCP), host:port (SSL, as
// Electrum infers), or a URL tcp://host:port or ssl://host:port (also
// tls://). IPv6 hosts are bracketed: [::1]:50001:t. Empty items are
// skipped; duplicates are kept once.
func Parse(list string) ([]Server, error) {
	var out []Server
	seen := map[Server]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		s, err := parseOne(item)
		if err != nil {
			return nil, err
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

func parseOne(item string) (Server, error) {
	var s Server
	var hostport string
	if i := strings.Index(item, "://"); i >= 0 {
		u, err := url.Parse(item)
		if err != nil {
			return s, fmt.Errorf("%w: not a URL", ErrBadAddress) // the input may hold a password
		}
		switch strings.ToLower(u.Scheme) {
		case "tcp":
		case "ssl", "tls":
			s.TLS = true
		default:
			return s, fmt.Errorf("%w: scheme %q in %q (want tcp:// or ssl://)", ErrBadAddress, u.Scheme, u.Redacted())
		}
		if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return s, fmt.Errorf("%w: %q has more than a host and port", ErrBadAddress, u.Redacted())
		}
		hostport, item = u.Host, u.Redacted()
	} else {
		hostport = item
		s.TLS = true // Electrum's default protocol
		if i := strings.LastIndexByte(item, ':'); i >= 0 && !strings.HasSuffix(item, "]") {
			switch strings.ToLower(item[i+1:]) {
			case "s":
				hostport = item[:i]
			case "t":
				s.TLS = false
				hostport = item[:i]
			}
		}
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" {
		return s, fmt.Errorf("%w: %q (want host:port:s, host:port:t, tcp://host:port or ssl://host:port)", ErrBadAddress, item)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return s, fmt.Errorf("%w: port %q in %q", ErrBadAddress, port, item)
	}
	s.Host, s.Port = host, p
	return s, nil
}

//go:embed lists/*.txt
var lists embed.FS

// Public returns the built-in public servers of a coin's network (SSL
// only; onion servers left out), or none for networks without a list
// (regtest, simnet).
func Public(coin, network string) []Server {
	raw, err := lists.ReadFile("lists/" + strings.ToLower(coin) + "-" + strings.ToLower(network) + ".txt")
	if err != nil {
		return nil
	}
	var out []Server
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		s, err := parseOne(strings.TrimSpace(sc.Text()))
		if err == nil {
			s.Public = true
			out = append(out, s)
		}
	}
	return out
}
