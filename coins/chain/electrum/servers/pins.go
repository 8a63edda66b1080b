package servers

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrCertChanged is returned by a TLS handshake with a server whose
// self-signed certificate differs from the one pinned for it.
var ErrCertChanged = errors.New("server certificate changed")

// Pins is Electrum's TLS policy: a certificate that chains to a system
// root and names the host is accepted as such; any other (the self-signed
// certificates most Electrum servers use) is pinned the first time it is
// seen and must be the same on every later connection (trust on first
// use). Pins live in memory and, when a directory is given, in one file
// per server (host_port.pin, the certificate's SHA-256), so they survive
// restarts; deleting the file accepts a new certificate. Pins is safe for
// concurrent use.
//
// TLS protects privacy and the data the client cannot verify (mempool
// contents, fee estimates); payments are protected by SPV verification
// whatever the certificate.
type Pins struct {
	dir   string
	roots *x509.CertPool // nil: the system roots

	mu sync.Mutex
	m  map[string]string
}

// NewPins returns a pin store kept in dir ("" for memory only). roots
// replaces the system roots when not nil (tests).
func NewPins(dir string, roots *x509.CertPool) *Pins {
	return &Pins{dir: dir, roots: roots, m: map[string]string{}}
}

// TLSConfig returns the client configuration for s.
func (p *Pins) TLSConfig(s Server) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: s.Host,
		// Verification is done by VerifyConnection: either the usual
		// chain-and-name check, or the pin.
		InsecureSkipVerify: true, //nolint:gosec // see VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			return p.verify(s, cs.PeerCertificates)
		},
	}
}

func (p *Pins) verify(s Server, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{DNSName: s.Host, Roots: p.roots, Intermediates: inter}); err == nil {
		return nil
	}
	sum := sha256.Sum256(certs[0].Raw)
	fp := hex.EncodeToString(sum[:])
	key := s.Addr()
	p.mu.Lock()
	defer p.mu.Unlock()
	pinned, ok := p.m[key]
	if !ok && p.dir != "" {
		if raw, err := os.ReadFile(p.file(s)); err == nil {
			pinned, ok = strings.TrimSpace(string(raw)), true
			p.m[key] = pinned
		}
	}
	if ok {
		if pinned != fp {
			return fmt.Errorf("%w: %s presents %s, pinned %s (delete %s to accept it)", ErrCertChanged, key, fp, pinned, p.file(s))
		}
		return nil
	}
	p.m[key] = fp
	if p.dir != "" {
		if err := os.MkdirAll(p.dir, 0o700); err != nil {
			return fmt.Errorf("pin certificate: %w", err)
		}
		tmp := p.file(s) + ".tmp"
		if err := os.WriteFile(tmp, []byte(fp+"\n"), 0o600); err != nil {
			return fmt.Errorf("pin certificate: %w", err)
		}
		if err := os.Rename(tmp, p.file(s)); err != nil {
			return fmt.Errorf("pin certificate: %w", err)
		}
	}
	return nil
}

func (p *Pins) file(s Server) string {
	name := strings.NewReplacer(":", "_", "/", "_", "[", "", "]", "").Replace(s.Host) + "_" + fmt.Sprint(s.Port) + ".pin"
	return filepath.Join(p.dir, name)
}
