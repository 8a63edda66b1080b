package servers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	got, err := Parse(" electrum.example.org:50002:s, 127.0.0.1:50001:t,tcp://10.0.0.1:1,ssl://h:2, [::1]:3:t, h4:4 ,,127.0.0.1:50001:t, TLS://h5:5")
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{Host: "electrum.example.org", Port: 50002, TLS: true},
		{Host: "127.0.0.1", Port: 50001},
		{Host: "10.0.0.1", Port: 1},
		{Host: "h", Port: 2, TLS: true},
		{Host: "::1", Port: 3},
		{Host: "h4", Port: 4, TLS: true},
		{Host: "h5", Port: 5, TLS: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %+v", got)
	}
	if got[4].String() != "[::1]:3:t" || got[0].String() != "electrum.example.org:50002:s" {
		t.Fatalf("String: %s %s", got[4], got[0])
	}
	for _, bad := range []string{"host", "host:x:s", "host:0:t", ":50001:t", "http://h:1", "ws://u:p@h:1", "tcp://h", "tcp://h:1/path",
		"ssl://user:pw@h:1", "::1:50001:t", "h:70000:s"} {
		if _, err := Parse(bad); !errors.Is(err, ErrBadAddress) {
			t.Errorf("Parse(%q) = %v, want ErrBadAddress", bad, err)
		}
	}
	if got, err := Parse(""); err != nil || len(got) != 0 {
		t.Fatalf("Parse(\"\") = %v, %v", got, err)
	}
}

func TestPublic(t *testing.T) {
	for _, c := range []struct{ coin, net string }{{"BTC", "mainnet"}, {"btc", "testnet"}, {"LTC", "mainnet"}} {
		l := Public(c.coin, c.net)
		if len(l) == 0 {
			t.Fatalf("no public servers for %s %s", c.coin, c.net)
		}
		for _, s := range l {
			if !s.TLS || !s.Public || s.Port == 0 {
				t.Fatalf("%s %s: %+v", c.coin, c.net, s)
			}
		}
	}
	if l := Public("BTC", "regtest"); len(l) != 0 {
		t.Fatalf("regtest has public servers: %v", l)
	}
}

type certs struct {
	caPool  *x509.CertPool
	caKey   *ecdsa.PrivateKey
	caCert  *x509.Certificate
	serials int64
}

func newCerts(t *testing.T) *certs {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &certs{caPool: pool, caKey: key, caCert: ca, serials: 1}
}

// leaf makes a certificate for host 127.0.0.1, signed by the CA or by
// itself.
func (c *certs) leaf(t *testing.T, byCA bool) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c.serials++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(c.serials), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	parent, signer := tmpl, key
	if byCA {
		parent, signer = c.caCert, c.caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// handshake runs a TLS server with cert on a fresh port and returns the
// client's handshake error with pins' config for that server.
func handshake(t *testing.T, pins *Pins, cert tls.Certificate, port int) error {
	l, err := tls.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(port)), &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	s := Server{Host: "127.0.0.1", Port: port, TLS: true}
	c, err := tls.Dial("tcp", s.Addr(), pins.TLSConfig(s))
	if err == nil {
		c.Close()
	}
	return err
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestPins(t *testing.T) {
	c := newCerts(t)
	dir := t.TempDir()
	pins := NewPins(dir, c.caPool)
	port := freePort(t)

	// A CA-signed certificate is accepted and not pinned: a renewed one
	// is accepted too.
	if err := handshake(t, pins, c.leaf(t, true), port); err != nil {
		t.Fatalf("CA-signed: %v", err)
	}
	if err := handshake(t, pins, c.leaf(t, true), port); err != nil {
		t.Fatalf("renewed CA-signed: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("CA-signed certificate pinned: %v", entries)
	}
	// A self-signed one is pinned on first use...
	self := c.leaf(t, false)
	if err := handshake(t, pins, self, port); err != nil {
		t.Fatalf("first self-signed: %v", err)
	}
	if err := handshake(t, pins, self, port); err != nil {
		t.Fatalf("same self-signed again: %v", err)
	}
	// ...and another one is refused, also by a new process reading the
	// pin from disk.
	other := c.leaf(t, false)
	if err := handshake(t, pins, other, port); !errors.Is(err, ErrCertChanged) {
		t.Fatalf("changed self-signed: %v", err)
	}
	again := NewPins(dir, c.caPool)
	if err := handshake(t, again, other, port); !errors.Is(err, ErrCertChanged) {
		t.Fatalf("changed self-signed after restart: %v", err)
	}
	if err := handshake(t, again, self, port); err != nil {
		t.Fatalf("pinned self-signed after restart: %v", err)
	}
	// Deleting the pin accepts the new certificate.
	if err := os.Remove(filepath.Join(dir, "127.0.0.1_"+itoa(port)+".pin")); err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, NewPins(dir, c.caPool), other, port); err != nil {
		t.Fatalf("after deleting the pin: %v", err)
	}
}

func TestParseHidesPasswords(t *testing.T) {
	for _, in := range []string{"ws://user:s3cret@h:1", "ssl://user:s3cret@h:1", "tcp://user:s3cret@h:x", "tcp://u:s3cret@h%zz:1"} {
		_, err := Parse(in)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q) = %v", in, err)
		}
	}
}
