package base

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/walletd/walletd/spec"
)

var nullID = json.RawMessage("null")

// wireError is the error member of a reply.
type wireError struct {
	Code    spec.Code `json:"code"`
	Message string    `json:"message"`
}

type okReply struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  any             `json:"result"`
	ID      json.RawMessage `json:"id"`
}

type errReply struct {
	JSONRPC string          `json:"jsonrpc"`
	Error   wireError       `json:"error"`
	ID      json.RawMessage `json:"id"`
}

func errorReply(id json.RawMessage, e *Error) []byte {
	b, _ := Marshal(errReply{JSONRPC: "2.0", Error: wireError{Code: e.Code, Message: e.Message}, ID: id})
	return b
}

// serveRPC takes a work token (or answers "server busy"), reads the body
// (bounded), decodes one request or a batch and writes the reply: always
// HTTP 200 and JSON. The request's work is bounded by
// Limits.RequestTimeout and ends early when the client goes away; writing
// the reply is bounded by Limits.WriteTimeout after that.
func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	select {
	case s.work <- struct{}{}:
		defer func() { <-s.work }()
	default:
		s.metrics.busy.Inc()
		replyAndClose(w, r, errorReply(nullID, Errorf(spec.Internal,
			"Server busy: %d requests in progress, try again later", cap(s.work))))
		return
	}
	body, pooled, err := s.readBody(w, r)
	if pooled != nil {
		// Given back once the reply is written: nothing refers to the
		// body then (the request's id and params are slices of it).
		defer s.bodies.Put(pooled)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.ParseError,
				"Parse error: request body exceeds %d bytes", s.cfg.MaxBodyBytes)))
			return
		}
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.ParseError, "Parse error: reading body: %v", err)))
		return
	}
	limits := s.cfg.Limits
	now := time.Now()
	// The request's time limit, made into a timer only if the call waits
	// on something (lazyctx.go): most calls are served from memory.
	ctx, cancel := withLazyDeadline(r.Context(), now.Add(limits.RequestTimeout))
	defer cancel()
	_ = http.NewResponseController(w).SetWriteDeadline(now.Add(limits.RequestTimeout + limits.WriteTimeout))
	buf := s.replies.Get().(*[]byte)
	out := s.handle(ctx, body, (*buf)[:0])
	writeJSON(w, http.StatusOK, out)
	// The reply was copied into the connection's buffer: its bytes can
	// serve the next request (a large one is left to the collector).
	if cap(out) <= maxPooledReply {
		*buf = out[:0]
		s.replies.Put(buf)
	}
}

// maxPooledReply bounds the reply buffers a server keeps for reuse.
const maxPooledReply = 16 << 10

// maxPooledBody is the largest body read into a pooled buffer (a wallet
// call's body is a few hundred bytes).
const maxPooledBody = 4 << 10

// readBody reads the request's body, at most MaxBodyBytes. A body of known
// length that fits maxPooledBody is read into a buffer of the server's
// pool, returned as pooled (put it back once nothing refers to the body);
// any other goes through http.MaxBytesReader as before.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (body []byte, pooled *[]byte, err error) {
	n := r.ContentLength
	if n < 0 || n > maxPooledBody || n > s.cfg.MaxBodyBytes {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		return body, nil, err
	}
	pooled = s.bodies.Get().(*[]byte)
	body = (*pooled)[:n]
	_, err = io.ReadFull(r.Body, body)
	return body, pooled, err
}

// Handle answers one raw request body (a request object or a batch array)
// and returns the JSON reply. It never panics and always returns JSON.
func (s *Server) Handle(ctx context.Context, body []byte) []byte {
	return s.handle(ctx, body, nil)
}

// handle is Handle appending the reply to dst.
func (s *Server) handle(ctx context.Context, body, dst []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return append(dst, s.handleBatch(ctx, trimmed)...)
	}
	return s.handleOne(ctx, trimmed, dst)
}

// handleBatch answers a batch in order. Once ctx ends (the client went
// away or the request's time is up) the remaining items are not run: each
// gets the error of the ended context.
func (s *Server) handleBatch(ctx context.Context, body []byte) []byte {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return errorReply(nullID, Errorf(spec.ParseError, "Parse error: %v", err))
	}
	if len(items) == 0 {
		return errorReply(nullID, Errorf(spec.InvalidParams, "Invalid request: empty batch"))
	}
	if len(items) > s.cfg.MaxBatch {
		return errorReply(nullID, Errorf(spec.InvalidParams, "Invalid request: batch of %d requests exceeds the limit of %d",
			len(items), s.cfg.MaxBatch))
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if ctx.Err() != nil {
			req, _ := decodeRequest(item)
			buf.Write(errorReply(req.id, s.ctxError(ctx)))
			continue
		}
		buf.Write(s.handleOne(ctx, item, nil))
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// ctxError is the wire error of a request whose context ended.
func (s *Server) ctxError(ctx context.Context) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Errorf(spec.Internal, "Request timed out: it took longer than %v", s.cfg.Limits.RequestTimeout)
	}
	return Errorf(spec.Internal, "Request cancelled: the client went away")
}

// request is a decoded request object.
type request struct {
	id     json.RawMessage
	method string
	params rawParams
	sel    Selector
}

// decodeRequest decodes one request object. Its id is returned even when
// the rest is invalid, so that the error reply can echo it. The common
// shape takes the fast path (fastjson.go); everything else, and every
// invalid request, encoding/json.
func decodeRequest(body []byte) (request, *Error) {
	if req, ok := fastDecode(body); ok {
		return req, nil
	}
	return slowDecode(body)
}

// slowDecode is decodeRequest through encoding/json.
func slowDecode(body []byte) (request, *Error) {
	req := request{id: nullID}
	// A struct of raw members decodes several times faster than a map; an
	// absent member stays nil, a null one is "null".
	var env struct {
		ID     json.RawMessage `json:"id"`
		Method json.RawMessage `json:"method"`
		Params json.RawMessage `json:"params"`
		Xpub   json.RawMessage `json:"xpub"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] != '{' {
		if json.Valid(trimmed) {
			return req, Errorf(spec.ProcedureNotFound, "Invalid request: not a JSON object")
		}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return req, Errorf(spec.ProcedureNotFound, "Invalid request: not a JSON object")
		}
		return req, Errorf(spec.ParseError, "Parse error: %v", err)
	}
	if env.ID != nil {
		req.id = env.ID
	}
	if m := env.Method; len(m) > 0 && !isNull(m) {
		if m[0] != '"' || json.Unmarshal(m, &req.method) != nil {
			return req, Errorf(spec.ProcedureNotFound, "Procedure not found: method must be a string")
		}
	}
	if req.method == "" {
		return req, Errorf(spec.ProcedureNotFound, "Procedure not found: no method given")
	}
	p, err := splitParams(env.Params)
	if err != nil {
		return req, asError(err)
	}
	// The selector is the named argument xpub; old clients put it at the
	// top level of the request.
	selRaw, ok := p.take("xpub")
	if !ok {
		selRaw = env.Xpub
	}
	req.params = p
	sel, err := parseSelector(selRaw)
	if err != nil {
		return req, asError(err)
	}
	req.sel = sel
	return req, nil
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(spec.InvalidParams, "%v", err)
}

// handleOne answers one request object, appending the reply to dst. Its
// error message, and every log line about it, is redacted of the client's
// strings (see redact).
func (s *Server) handleOne(ctx context.Context, body, dst []byte) []byte {
	req, rerr := decodeRequest(body)
	if rerr != nil {
		rerr.Message = redact(rerr.Message, clientStrings(req))
		return append(dst, errorReply(req.id, rerr)...)
	}
	rid := s.reqSeq.Add(1)
	_, methodKnown := s.cfg.Methods.Lookup(req.method)
	log := s.requestLog(ctx, rid, req, methodKnown)
	start := time.Now()
	result, err := s.dispatch(ctx, req, log)
	if err != nil {
		werr, known := s.cfg.Errors.resolve(err)
		if !known && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			werr, known = s.ctxError(ctx), true
		}
		client := clientStrings(req)
		werr = &Error{Code: werr.Code, Message: redact(werr.Message, client)}
		s.metrics.observe(req.method, methodKnown, int(werr.Code), time.Since(start))
		if !known {
			log.Error("internal error", "rid", rid, "id", logID(req.id), "method", logMethod(req.method, methodKnown),
				"err", redact(err.Error(), client))
		} else {
			log.Debug("request failed", "code", werr.Code, "err", werr.Message, "took", time.Since(start))
		}
		return append(dst, errorReply(req.id, werr)...)
	}
	took := time.Since(start)
	s.metrics.observe(req.method, methodKnown, 0, took)
	if out, ok := appendReply(dst, result, req.id); ok {
		log.Debug("request", "took", took)
		return out
	}
	out, merr := Marshal(okReply{JSONRPC: "2.0", Result: result, ID: req.id})
	if merr != nil {
		log.Error("encoding result", "err", merr)
		return append(dst, errorReply(req.id, &Error{Code: spec.Internal, Message: "internal error"})...)
	}
	log.Debug("request", "took", time.Since(start))
	return append(dst, out...)
}

// JSONAppender is a result that writes its own JSON, compact and valid,
// exactly as Marshal would write it: the reply then skips
// encoding/json (its reflection, and the validation of a MarshalJSON's
// output). The daemons' hottest replies implement it.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// appendReply appends to dst the reply of a JSONAppender result with a
// plain id (a number or a string without escapes, as clients send); ok is
// false for anything else, which encoding/json writes.
func appendReply(dst []byte, result any, id json.RawMessage) ([]byte, bool) {
	r, ok := result.(JSONAppender)
	if !ok || !plainID(id) {
		return nil, false
	}
	out := dst
	if out == nil {
		out = make([]byte, 0, 512)
	}
	out = append(out, `{"jsonrpc":"2.0","result":`...)
	out = r.AppendJSON(out)
	out = append(out, `,"id":`...)
	out = append(out, id...)
	return append(out, '}'), true
}

// plainID reports whether id is written the same by Marshal: null, an
// integer, or a string of printable ASCII without escapes.
func plainID(id json.RawMessage) bool {
	if string(id) == "null" {
		return true
	}
	if len(id) == 0 {
		return false
	}
	if id[0] == '"' {
		_, end, ok := plainString(id, 0)
		return ok && end == len(id)
	}
	i := 0
	if id[0] == '-' {
		i++
	}
	if i == len(id) || i+1 < len(id) && id[i] == '0' {
		return false
	}
	for ; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// logMethod is the method name as logged: only a name of the method table,
// never what a client sent in its place.
func logMethod(method string, known bool) string {
	if known {
		return method
	}
	return "(unknown)"
}

// logID is a request id as logged, cut short (ids are the client's).
func logID(id json.RawMessage) string { return shorten(string(id)) }

// requestLog is the logger of one request. Building it costs an
// allocation per request, so at levels above debug only errors (which are
// rare) pay for the request attributes.
func (s *Server) requestLog(ctx context.Context, rid uint64, req request, known bool) *slog.Logger {
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return s.log
	}
	return s.log.With("rid", rid, "id", logID(req.id), "method", logMethod(req.method, known))
}

// dispatch finds the method, binds its arguments and runs it, turning a
// panic into an internal error.
func (s *Server) dispatch(ctx context.Context, req request, log *slog.Logger) (result any, err error) {
	m, ok := s.cfg.Methods.Lookup(req.method)
	if !ok {
		return nil, Errorf(spec.ProcedureNotFound, "Procedure not found: %s", shorten(req.method))
	}
	if m.NeedsWallet && req.sel.Empty() {
		return nil, Errorf(spec.WalletNotLoaded, "Wallet not loaded")
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in handler", "method", m.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			result, err = nil, &Error{Code: spec.Internal, Message: "internal error"}
		}
	}()
	return m.run(ctx, &Call{ID: req.id, Method: req.method, Wallet: req.sel, Log: log}, req.params)
}
