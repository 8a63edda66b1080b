package electrum

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
)

// protocolVersion is the Electrum protocol version walletd speaks.
const protocolVersion = "1.4"

// clientName is sent in server.version.
const clientName = "walletd"

// dialTimeout bounds connecting, the TLS handshake and the first requests
// of a session.
const dialTimeout = 10 * time.Second

// errLie wraps every proof that the server lied; the link is dropped and
// the server banned.
var errLie = errors.New("server lied")

// errBusy wraps the end of a link the server cut for cost: it answered
// "excessive resource usage" (-101, ElectrumX's session cost above
// COST_HARD_LIMIT; it closes the session) or "server busy" (-102, a
// request queued behind its throttle past REQUEST_TIMEOUT). Not a lie:
// the server is used again, with more, smaller sessions, after a backoff.
var errBusy = errors.New("server throttles the client (session cost limits)")

// Error codes of aiorpcX, the JSON-RPC layer of ElectrumX.
const (
	codeExcessiveResourceUsage = -101
	codeServerBusy             = -102
)

// busyError reports whether err is a server's refusal for cost.
func busyError(err error) bool {
	var rpcErr *rpc.Error
	if !errors.As(err, &rpcErr) {
		return false
	}
	switch rpcErr.Code {
	case codeExcessiveResourceUsage, codeServerBusy:
		return true
	}
	m := strings.ToLower(rpcErr.Message)
	return strings.Contains(m, "excessive resource usage") || strings.Contains(m, "server busy")
}

func lie(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errLie, fmt.Sprintf(format, args...))
}

// note is a notification tagged with the session it came on.
type note struct {
	sess int
	n    rpc.Notification
}

// session is one connection to the server.
type session struct {
	conn    *rpc.Conn
	idx     int
	scripts int   // subscriptions assigned here
	tipSeen int32 // height of the last header the session announced
}

// link is the backend's connection to one server: one or more sessions
// (the first carries header and general traffic; scripts are spread over
// all of them). Any session failing fails the link.
type link struct {
	id  uint64
	srv servers.Server
	cfg *Config
	// perSession and window are Config.SessionScripts and Config.Window,
	// reduced for a server that throttled an earlier link.
	perSession, window int
	// busy: the server refused a request for cost (errBusy).
	busy atomic.Bool

	mu       sync.Mutex
	sessions []*session
	notes    []note
	lastNote time.Time
	noteSig  chan struct{}

	// slowHist and slowSub: get_history and scripthash.subscribe calls
	// whose reply did not come within replyPatience, parked to be
	// collected by a later step (the processor goes on meanwhile);
	// slowSig is signalled when one of them ends. Only the processor
	// touches them.
	slowHist, slowSub slowCalls
	slowSig           chan struct{}

	dead    chan struct{}
	deadErr error
	once    sync.Once
	wg      sync.WaitGroup
	rr      atomic.Uint32
}

func newLink(id uint64, srv servers.Server, cfg *Config, perSession, window int) *link {
	return &link{id: id, srv: srv, cfg: cfg, perSession: perSession, window: window,
		noteSig: make(chan struct{}, 1), dead: make(chan struct{}),
		slowHist: slowCalls{}, slowSub: slowCalls{}, slowSig: make(chan struct{}, 1)}
}

// fail tears the link down (all sessions) with reason err; idempotent.
func (l *link) fail(err error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.deadErr = err
		ss := l.sessions
		l.mu.Unlock()
		close(l.dead)
		for _, s := range ss {
			go s.conn.Close(err) // not from a reader goroutine: Close waits for it
		}
	})
}

// close fails the link and waits for its goroutines.
func (l *link) close(err error) {
	l.fail(err)
	l.wg.Wait()
	l.mu.Lock()
	ss := l.sessions
	l.mu.Unlock()
	for _, s := range ss {
		s.conn.Close(err)
	}
}

func (l *link) err() error {
	select {
	case <-l.dead:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.deadErr
	default:
		return nil
	}
}

// open dials one more session: TCP or TLS (with the pin policy),
// server.version, then headers.subscribe.
func (l *link) open(ctx context.Context) (*session, tipNote, error) {
	// A server that does not accept within dialTimeout is skipped: with
	// dozens of public servers, one round must not take hours.
	dctx, cancel := context.WithTimeout(ctx, min(l.cfg.CallTimeout, dialTimeout))
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", l.srv.Addr())
	if err != nil {
		return nil, tipNote{}, err
	}
	if l.srv.TLS {
		tc := tls.Client(nc, l.cfg.Pins.TLSConfig(l.srv))
		if err := tc.HandshakeContext(dctx); err != nil {
			nc.Close()
			return nil, tipNote{}, fmt.Errorf("TLS: %w", err)
		}
		nc = tc
	}
	l.mu.Lock()
	idx := len(l.sessions)
	l.mu.Unlock()
	conn := rpc.New(nc, rpc.Options{
		OnNotify: func(n rpc.Notification) { l.push(idx, n) },
		// A refusal for cost is seen here even when the close that
		// follows it (ElectrumX closes the session after -101) fails the
		// link before any caller reads the reply.
		OnError: func(e *rpc.Error) {
			if busyError(e) {
				l.busy.Store(true)
			}
		},
	})
	s := &session{conn: conn, idx: idx, tipSeen: -1}
	var ver []string
	if err := conn.Call(dctx, &ver, "server.version", clientName, protocolVersion); err != nil {
		conn.Close(err)
		return nil, tipNote{}, fmt.Errorf("server.version: %w", err)
	}
	if len(ver) != 2 || ver[1] != protocolVersion {
		conn.Close(nil)
		return nil, tipNote{}, fmt.Errorf("server speaks protocol %v, not %s", ver, protocolVersion)
	}
	var tip tipNote
	if err := conn.Call(dctx, &tip, "blockchain.headers.subscribe"); err != nil {
		conn.Close(err)
		return nil, tipNote{}, fmt.Errorf("headers.subscribe: %w", err)
	}
	s.tipSeen = tip.Height
	l.mu.Lock()
	select {
	case <-l.dead:
		err := l.deadErr
		l.mu.Unlock()
		conn.Close(err)
		return nil, tipNote{}, err
	default:
	}
	l.sessions = append(l.sessions, s)
	l.mu.Unlock()
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		select {
		case <-conn.Done():
			l.fail(fmt.Errorf("session %d: %w", idx, conn.Err()))
		case <-l.dead:
		}
	}()
	go func() {
		defer l.wg.Done()
		l.pinger(s)
	}()
	return s, tip, nil
}

// pinger pings the session every PingInterval; no answer within
// CallTimeout fails the link (a dead peer behind a silent network).
func (l *link) pinger(s *session) {
	t := time.NewTicker(l.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-l.dead:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CallTimeout)
		err := s.conn.Call(ctx, nil, "server.ping")
		cancel()
		if err != nil {
			l.fail(fmt.Errorf("ping: %w", err))
			return
		}
	}
}

func (l *link) push(idx int, n rpc.Notification) {
	l.mu.Lock()
	l.notes = append(l.notes, note{sess: idx, n: n})
	l.lastNote = time.Now()
	l.mu.Unlock()
	select {
	case l.noteSig <- struct{}{}:
	default:
	}
}

// drain takes the queued notifications.
func (l *link) drain() []note {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.notes
	l.notes = nil
	return n
}

func (l *link) session(i int) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.sessions) {
		return nil
	}
	return l.sessions[i]
}

func (l *link) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sessions)
}

// any returns a session for general requests, round robin.
func (l *link) any() *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sessions[int(l.rr.Add(1))%len(l.sessions)]
}

// call sends one request on s, bounded by CallTimeout. A dead link gives an
// error wrapping chain.ErrNotConnected; a server error is *rpc.Error, except
// a refusal for cost, which fails the link (errBusy).
func (l *link) call(ctx context.Context, s *session, out any, method string, params ...any) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.CallTimeout)
	defer cancel()
	err := s.conn.Call(ctx, out, method, params...)
	return l.mapErr(err)
}

func (l *link) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, rpc.ErrClosed) {
		return fmt.Errorf("%w: %v", chain.ErrNotConnected, err)
	}
	if busyError(err) {
		// Not an answer about the chain: nothing the server said (or
		// failed to prove) counts against it. The link is dropped (after
		// -101 ElectrumX closes the session anyway).
		l.busy.Store(true)
		l.fail(fmt.Errorf("%w: %v", errBusy, err))
		return fmt.Errorf("%w: %w: %v", chain.ErrNotConnected, errBusy, err)
	}
	if errors.Is(err, context.DeadlineExceeded) && l.err() == nil {
		// A server that does not answer in time is as good as gone.
		l.fail(fmt.Errorf("request timed out: %w", err))
		return fmt.Errorf("%w: request timed out", chain.ErrNotConnected)
	}
	return err
}

// job is one request of a bulk operation.
type job struct {
	sess   *session
	method string
	params []any
	// done receives the reply; a non-nil error from it stops the bulk.
	done func(raw json.RawMessage, err error) error
}

// bulk pipelines jobs, at most Window in flight per session, replies
// handled in job order. It stops at the first error a done returns (or a
// dead link).
func (l *link) bulk(ctx context.Context, jobs []job) error {
	_, err := l.bulkPatient(ctx, jobs, 0)
	return err
}

// parked is a job of bulkPatient whose reply did not come in time: its
// call is still in flight; finish handles it once Done.
type parked struct {
	idx  int // in the jobs given to bulkPatient
	j    job
	call *rpc.Call
	sent time.Time
}

// bulkPatient is bulk, except that when patience > 0 a reply not there
// patience after its turn came is not waited for: its job is returned
// parked (out of the window count), and the others go on. A reply that
// does not come within CallTimeout still fails the link.
func (l *link) bulkPatient(ctx context.Context, jobs []job, patience time.Duration) ([]parked, error) {
	var queue []parked
	var slow []parked
	inflight := map[*session]int{}
	wait := func() error {
		f := queue[0]
		queue = queue[1:]
		inflight[f.j.sess]--
		if patience > 0 {
			select {
			case <-f.call.Done():
			default:
				t := time.NewTimer(patience)
				select {
				case <-f.call.Done():
				case <-t.C:
				case <-ctx.Done():
				}
				t.Stop()
			}
			select {
			case <-f.call.Done():
			default:
				if ctx.Err() == nil {
					slow = append(slow, f)
					return nil
				}
			}
		}
		return l.finish(ctx, f, time.Now().Add(l.cfg.CallTimeout))
	}
	for i, j := range jobs {
		for inflight[j.sess] >= l.window {
			if err := wait(); err != nil {
				return nil, err
			}
		}
		queue = append(queue, parked{idx: i, j: j, call: j.sess.conn.Go(j.method, j.params...), sent: time.Now()})
		inflight[j.sess]++
	}
	for len(queue) > 0 {
		if err := wait(); err != nil {
			return nil, err
		}
	}
	return slow, nil
}

// slowCall is a parked call about one script; it is the reply of a
// get_history (nil for a scripthash.subscribe, whose job records all).
type slowCall struct {
	p  parked
	it *histReply
}

// slowCalls are the parked calls of one kind, by script.
type slowCalls map[shash]*slowCall

// collect takes out of m the calls whose reply came, each handed to its
// job, and fails the link when one is overdue (CallTimeout after it was
// sent).
func (l *link) collect(ctx context.Context, m slowCalls) (map[shash]*slowCall, error) {
	out := map[shash]*slowCall{}
	for h, sc := range m {
		select {
		case <-sc.p.call.Done():
			delete(m, h)
			// The reply is there: Wait returns at once.
			if err := l.finish(ctx, sc.p, time.Now().Add(l.cfg.CallTimeout)); err != nil {
				return nil, err
			}
			out[h] = sc
		default:
			if time.Since(sc.p.sent) > l.cfg.CallTimeout {
				l.fail(fmt.Errorf("request timed out: %s %s", sc.p.j.method, h))
				return nil, fmt.Errorf("%w: request timed out", chain.ErrNotConnected)
			}
		}
	}
	return out, nil
}

// park records in m the calls bulkPatient left in flight (keys and items,
// which may be nil, are indexed like its jobs), and has slowSig signalled
// when each ends.
func (l *link) park(m slowCalls, ps []parked, keys []shash, items []*histReply) {
	for _, p := range ps {
		sc := &slowCall{p: p}
		if items != nil {
			sc.it = items[p.idx]
		}
		m[keys[p.idx]] = sc
		go func(done <-chan struct{}) {
			select {
			case <-done:
			case <-l.dead:
				return
			}
			select {
			case l.slowSig <- struct{}{}:
			default:
			}
		}(p.call.Done())
	}
}

// patience is bulkPatient's for the processor: replyPatience once
// connected, none (wait for every reply) during the handshake.
func (b *Backend) patience() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready {
		return replyPatience
	}
	return 0
}

// finish waits for f's reply (until deadline) and hands it to the job.
func (l *link) finish(ctx context.Context, f parked, deadline time.Time) error {
	cctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var raw json.RawMessage
	err := l.mapErr(f.call.Wait(cctx, &raw))
	var rpcErr *rpc.Error
	if err != nil && !errors.As(err, &rpcErr) {
		return err
	}
	return f.j.done(raw, err)
}

// tipNote is the result and notification of blockchain.headers.subscribe.
type tipNote struct {
	Height int32  `json:"height"`
	Hex    string `json:"hex"`
}
