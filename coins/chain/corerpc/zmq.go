package corerpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"
)

// This file is a minimal ZeroMQ SUB client: ZMTP 3.0 over TCP with the NULL
// security mechanism (https://rfc.zeromq.org/spec/23/), which is what Core's
// -zmqpub* publishers (libzmq PUB sockets) speak. It subscribes by sending
// ZMTP 3.0 subscription messages (0x01 + topic), which libzmq 4.x accepts
// from a peer that announces version 3.0, and reads multipart messages
// (Core sends topic, body, 4-byte little-endian sequence number).

// zmqTopics returns the Core notification topics the backend subscribes to.
func zmqTopics() []string { return []string{"rawtx", "sequence", "hashblock", "rawblock"} }

// ZMTP framing.
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpCommand = 0x04

	zmtpGreetingLen  = 64
	zmtpMaxFrame     = 64 << 20 // a raw block with MWEB data fits easily
	zmtpMaxParts     = 16
	zmtpHandshakeFor = 10 * time.Second
)

// parseZMQEndpoint turns "tcp://host:port" into "host:port".
func parseZMQEndpoint(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, "tcp://")
	if !ok {
		return "", fmt.Errorf("corerpc: ZMQ endpoint %q: only tcp://host:port is supported", s)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host == "" || port == "" || host == "*" {
		return "", fmt.Errorf("corerpc: ZMQ endpoint %q: want tcp://host:port", s)
	}
	return rest, nil
}

// zmqSubscriber keeps one SUB connection to a publisher, reconnecting with
// backoff, and hands every message to onMessage (topic, first body frame).
type zmqSubscriber struct {
	addr                       string
	topics                     []string
	onMessage                  func(topic string, body []byte)
	log                        *slog.Logger
	reconnectMin, reconnectMax time.Duration
}

// run connects and reads until ctx ends.
func (z *zmqSubscriber) run(ctx context.Context) {
	backoff := z.reconnectMin
	for ctx.Err() == nil {
		d := net.Dialer{Timeout: zmtpHandshakeFor, KeepAlive: 30 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", z.addr)
		if err == nil {
			since := time.Now()
			err = z.session(ctx, conn)
			if time.Since(since) > z.reconnectMax {
				backoff = z.reconnectMin
			}
		}
		if ctx.Err() != nil {
			return
		}
		z.log.Warn("corerpc: ZMQ subscription interrupted", "endpoint", z.addr, "retry_in", backoff, "err", err)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, z.reconnectMax)
	}
}

// session runs the ZMTP handshake, subscribes and reads messages until the
// connection fails or ctx ends.
func (z *zmqSubscriber) session(ctx context.Context, conn net.Conn) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(zmtpHandshakeFor))
	r := bufio.NewReaderSize(conn, 64<<10)
	if err := zmtpHandshake(conn, r, "SUB"); err != nil {
		return err
	}
	for _, t := range z.topics {
		if err := writeFrame(conn, 0, append([]byte{1}, t...)); err != nil {
			return err
		}
	}
	_ = conn.SetDeadline(time.Time{})
	z.log.Info("corerpc: ZMQ subscribed", "endpoint", z.addr, "topics", strings.Join(z.topics, ","))
	for {
		parts, err := readMessage(r)
		if err != nil {
			return err
		}
		if len(parts) >= 2 {
			z.onMessage(string(parts[0]), parts[1])
		}
	}
}

// zmtpGreeting returns a ZMTP 3.0 greeting with the NULL mechanism.
func zmtpGreeting() []byte {
	g := make([]byte, zmtpGreetingLen)
	g[0], g[9] = 0xff, 0x7f
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}

// zmtpHandshake exchanges greetings and READY commands, announcing
// socketType; it fails unless the peer speaks ZMTP 3.x with NULL security.
func zmtpHandshake(w io.Writer, r *bufio.Reader, socketType string) error {
	if _, err := w.Write(zmtpGreeting()); err != nil {
		return err
	}
	var peer [zmtpGreetingLen]byte
	if _, err := io.ReadFull(r, peer[:]); err != nil {
		return fmt.Errorf("zmtp greeting: %w", err)
	}
	if peer[0] != 0xff || peer[9] != 0x7f {
		return errors.New("zmtp: peer is not a ZMTP 3 endpoint")
	}
	if peer[10] < 3 {
		return fmt.Errorf("zmtp: peer speaks ZMTP %d.%d, want 3.x", peer[10], peer[11])
	}
	if mech := string(bytes.TrimRight(peer[12:32], "\x00")); mech != "NULL" {
		return fmt.Errorf("zmtp: peer wants security mechanism %q (only NULL is supported)", mech)
	}
	if err := writeFrame(w, zmtpCommand, readyCommand(socketType)); err != nil {
		return err
	}
	for {
		flags, body, err := readFrame(r)
		if err != nil {
			return err
		}
		if flags&zmtpCommand == 0 {
			return errors.New("zmtp: message before READY")
		}
		name, data, err := commandName(body)
		if err != nil {
			return err
		}
		switch name {
		case "READY":
			return nil
		case "ERROR":
			return fmt.Errorf("zmtp: peer refused the connection: %q", truncate(data, 100))
		}
	}
}

// readyCommand is a READY command body with the Socket-Type property.
func readyCommand(socketType string) []byte {
	b := []byte{5}
	b = append(b, "READY"...)
	b = append(b, byte(len("Socket-Type")))
	b = append(b, "Socket-Type"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(socketType)))
	return append(b, socketType...)
}

func commandName(body []byte) (string, []byte, error) {
	if len(body) < 1 || int(body[0]) > len(body)-1 {
		return "", nil, errors.New("zmtp: malformed command")
	}
	n := int(body[0])
	return string(body[1 : 1+n]), body[1+n:], nil
}

// writeFrame writes one frame (short or long form by size).
func writeFrame(w io.Writer, flags byte, body []byte) error {
	var hdr []byte
	if len(body) <= 255 {
		hdr = []byte{flags, byte(len(body))}
	} else {
		hdr = binary.BigEndian.AppendUint64([]byte{flags | zmtpLong}, uint64(len(body)))
	}
	if _, err := w.Write(append(hdr, body...)); err != nil {
		return err
	}
	return nil
}

// readFrame reads one frame: its flags and body.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	flags, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	if flags&^(zmtpMore|zmtpLong|zmtpCommand) != 0 {
		return 0, nil, fmt.Errorf("zmtp: bad frame flags %#x", flags)
	}
	var size uint64
	if flags&zmtpLong != 0 {
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		size = binary.BigEndian.Uint64(b[:])
	} else {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		size = uint64(b)
	}
	if size > zmtpMaxFrame {
		return 0, nil, fmt.Errorf("zmtp: %d-byte frame", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return flags, body, nil
}

// readMessage reads the frames of one message, skipping commands (a ZMTP
// 3.1 peer may send PING; with a 3.0 peer libzmq sends none).
func readMessage(r *bufio.Reader) ([][]byte, error) {
	var parts [][]byte
	for {
		flags, body, err := readFrame(r)
		if err != nil {
			return nil, err
		}
		if flags&zmtpCommand != 0 {
			continue
		}
		if len(parts) < zmtpMaxParts {
			parts = append(parts, body)
		}
		if flags&zmtpMore == 0 {
			return parts, nil
		}
	}
}
