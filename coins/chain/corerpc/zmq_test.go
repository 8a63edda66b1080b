package corerpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPublisher is a tiny ZMTP 3.0 PUB endpoint, enough to drive the
// subscriber (and the backend) in tests: it accepts connections, runs the
// handshake, records subscriptions and sends multipart messages
// (topic, body, 4-byte sequence) to subscribers of the topic.
type testPublisher struct {
	ln  net.Listener
	mu  sync.Mutex
	sub map[net.Conn]map[string]bool
	seq uint32
}

func newTestPublisher(t testing.TB) *testPublisher {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &testPublisher{ln: ln, sub: map[net.Conn]map[string]bool{}}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Endpoint is the publisher's tcp:// address.
func (p *testPublisher) Endpoint() string { return "tcp://" + p.ln.Addr().String() }

func (p *testPublisher) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *testPublisher) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	if err := zmtpHandshake(c, r, "PUB"); err != nil {
		return
	}
	p.mu.Lock()
	p.sub[c] = map[string]bool{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.sub, c)
		p.mu.Unlock()
	}()
	for {
		flags, body, err := readFrame(r)
		if err != nil {
			return
		}
		if flags&zmtpCommand == 0 && len(body) > 0 && body[0] == 1 {
			p.mu.Lock()
			if s, ok := p.sub[c]; ok {
				s[string(body[1:])] = true
			}
			p.mu.Unlock()
		}
	}
}

// Subscribed reports whether some connection subscribed to topic.
func (p *testPublisher) Subscribed(topic string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.sub {
		if s[topic] {
			return true
		}
	}
	return false
}

// Publish sends one message to the subscribers of topic.
func (p *testPublisher) Publish(topic string, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	seq := binary.LittleEndian.AppendUint32(nil, p.seq)
	for c, s := range p.sub {
		if !s[topic] {
			continue
		}
		var buf bytes.Buffer
		_ = writeFrame(&buf, zmtpMore, []byte(topic))
		_ = writeFrame(&buf, zmtpMore, body)
		_ = writeFrame(&buf, 0, seq)
		_, _ = c.Write(buf.Bytes())
	}
}

// DropAll closes every subscriber connection (they reconnect).
func (p *testPublisher) DropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.sub {
		c.Close()
		delete(p.sub, c)
	}
}

func (p *testPublisher) close() {
	p.ln.Close()
	p.DropAll()
}

type received struct {
	mu   sync.Mutex
	msgs []string // topic:hex-prefix
	by   map[string][]byte
}

func (r *received) add(topic string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, topic)
	if r.by == nil {
		r.by = map[string][]byte{}
	}
	r.by[topic] = append([]byte(nil), body...)
}

func (r *received) get(topic string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.by[topic]
	return b, ok
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runSubscriber(t *testing.T, endpoint string, topics []string, rec *received) context.CancelFunc {
	t.Helper()
	addr, err := parseZMQEndpoint(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	z := &zmqSubscriber{addr: addr, topics: topics, onMessage: rec.add, log: slog.New(slog.DiscardHandler),
		reconnectMin: 10 * time.Millisecond, reconnectMax: 100 * time.Millisecond}
	done := make(chan struct{})
	go func() {
		defer close(done)
		z.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cancel
}

// TestZMTPSubscriberGoPublisher: handshake, subscriptions, short and long
// frames, topic filtering, and reconnection after the publisher drops the
// connection.
func TestZMTPSubscriberGoPublisher(t *testing.T) {
	p := newTestPublisher(t)
	var rec received
	runSubscriber(t, p.Endpoint(), []string{"rawtx", "hashblock"}, &rec)
	waitCond(t, "subscriptions", func() bool { return p.Subscribed("rawtx") && p.Subscribed("hashblock") })

	long := bytes.Repeat([]byte{7}, 70_000)
	p.Publish("hashtx", []byte("not subscribed"))
	p.Publish("rawtx", long)
	p.Publish("hashblock", []byte{1, 2, 3})
	waitCond(t, "both messages", func() bool { return rec.count() >= 2 })
	if b, _ := rec.get("rawtx"); !bytes.Equal(b, long) {
		t.Fatalf("rawtx body %d bytes, want %d", len(b), len(long))
	}
	if b, _ := rec.get("hashblock"); !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Fatalf("hashblock body %x", b)
	}
	if _, ok := rec.get("hashtx"); ok {
		t.Fatal("received a topic not subscribed to")
	}

	p.DropAll()
	waitCond(t, "resubscription", func() bool { return p.Subscribed("rawtx") })
	before := rec.count()
	p.Publish("hashblock", []byte{9})
	waitCond(t, "a message after reconnecting", func() bool { return rec.count() > before })
}

// TestZMTPSubscriberLibzmq subscribes to a real libzmq PUB socket
// (python3-zmq, libzmq 4.3.4: the library Core's ZMQ notifications use).
func TestZMTPSubscriberLibzmq(t *testing.T) {
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatalf("python3 not found: install python3 and python3-zmq (scripts/deps.d/ltc.apt)")
	}
	cmd := exec.Command(py, filepath.Join("testdata", "zmqpub.py"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("publisher did not start (python3-zmq missing? see scripts/deps.d/ltc.apt): %v\n%s", err, stderr.String())
	}
	port := strings.TrimSpace(line)
	var rec received
	runSubscriber(t, "tcp://127.0.0.1:"+port, []string{"rawtx", "hashblock", "sequence"}, &rec)
	waitCond(t, "the three topics from libzmq", func() bool {
		_, a := rec.get("rawtx")
		_, b := rec.get("hashblock")
		_, c := rec.get("sequence")
		return a && b && c
	})
	raw, _ := rec.get("rawtx")
	for i, c := range raw {
		if len(raw) != 300 || c != byte(i%256) {
			t.Fatalf("rawtx body wrong (%d bytes)", len(raw))
		}
	}
	if b, _ := rec.get("hashblock"); !bytes.Equal(b, bytes.Repeat([]byte{0xab}, 32)) {
		t.Fatalf("hashblock %x", b)
	}
	if b, _ := rec.get("sequence"); len(b) != 41 || b[32] != 'A' {
		t.Fatalf("sequence %x", b)
	}
	if _, ok := rec.get("hashtx"); ok {
		t.Fatal("libzmq sent a topic we did not subscribe to")
	}
}

func TestZMTPRefusesOtherPeers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		g := zmtpGreeting()
		copy(g[12:32], "CURVE\x00\x00\x00\x00")
		_, _ = c.Write(g)
		_, _ = c.Read(make([]byte, 64))
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = zmtpHandshake(c, bufio.NewReader(c), "SUB")
	if err == nil || !strings.Contains(err.Error(), "CURVE") {
		t.Fatalf("handshake with a CURVE peer: %v", err)
	}
	for _, bad := range []string{"", "udp://1.2.3.4:5", "tcp://nohost", "tcp://*:28332"} {
		if _, err := parseZMQEndpoint(bad); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
	if a, err := parseZMQEndpoint("tcp://127.0.0.1:28332"); err != nil || a != "127.0.0.1:28332" {
		t.Fatalf("endpoint: %q %v", a, err)
	}
}
