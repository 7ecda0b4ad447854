package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
)

// Handler configures a WebSocket route (RFC 6455, permessage-deflate RFC 7692).
// Callbacks run on the connection's event loop and must not block, unless UseWorkerPool
// moves OnOpen, OnMessage and OnClose to the server's worker pool.
type Handler struct {
	OnOpen func(c *Conn)
	// OnMessage receives each complete message; m.Payload is valid only during the call
	// (on the loop a view of the loop's input, on the worker pool a pooled copy that is
	// reused once the call returns): copy what you keep.
	OnMessage func(c *Conn, m Message)
	// OnClose runs once when the connection has gone: code is the peer's close code, or
	// 1006 when the connection ended without a close handshake.
	OnClose func(c *Conn, code StatusCode, reason string)
	// OnPing and OnPong see control frames (pings are answered automatically first). They
	// run on the loop, with UseWorkerPool too, and must not block.
	OnPing, OnPong func(c *Conn, payload []byte)

	// UseWorkerPool runs OnOpen, OnMessage and OnClose on the server's bounded worker
	// pool (server.Config.WorkerPoolSize, shared with routes' UseWorkerPool), for
	// callbacks that block (a database, another service). A connection's callbacks run
	// one at a time and in order: OnOpen, each OnMessage as its message arrived, then
	// OnClose once, after the callback still running when the connection closed. While a
	// callback runs, the connection reads no further data frame: what the peer sends
	// waits in the kernel (TCP flow control holds the peer back), not in server memory,
	// and other connections on the loop are served meanwhile. Control frames stay on the
	// loop (pings already received are answered at once). When every worker is busy, the
	// callback waits for one in its loop's queue, in order, with its connection held: no
	// goroutine is started beyond the pool's, and at most one callback per connection
	// is outstanding. m.Payload is a copy in a pooled buffer, valid only during the call.
	// Write and Close become WriteAsync and CloseAsync, safe from the callbacks (their
	// frames still leave through the loop, in order); Hub.Add and Hub.Remove take effect
	// on the loop. Value and SetValue are safe in OnOpen, OnMessage and OnClose (they
	// never run together), not in OnPing and OnPong. A callback that panics closes its
	// connection with 1011. Conn.Conn's loop-only methods stay loop-only.
	UseWorkerPool bool

	// Subprotocols the server speaks; the first one in the client's order is chosen.
	Subprotocols []string
	// CheckOrigin decides on the Origin header; nil means AllowedOrigins, and without those
	// same-origin only (Origin's host must equal Host), which stops cross-site hijacking.
	// Requests without Origin (non-browser clients) are accepted.
	CheckOrigin func(r *server.Request) bool
	// AllowedOrigins lists acceptable Origin values exactly ("*" accepts any).
	AllowedOrigins []string
	// Authorize, when set, decides on a handshake that is otherwise valid (method, version,
	// key and origin checked), before the 101: it sees the request (r.Get for headers and
	// cookies, r.Query, r.PathValue, r.RemoteAddr) and returns either the value the
	// connection carries, which Conn.Value (or ValueOf) gives OnOpen, OnMessage, OnClose
	// and every callback, and which SelectSubprotocol gets, or a Rejection, answered as
	// it is: any status, the header lines of Rejection.Header, and Reason as the body
	// (Rejection.ContentType, text/plain by default). server.Decline, or a status outside
	// 200-599, is answered 403. r and its views are valid only during the call: copy into
	// the value what the connection needs later (a path value, a header).
	Authorize func(r *server.Request) (value any, reject *server.Rejection)
	// AuthorizeOffLoop runs Authorize (and SelectSubprotocol) on the server's worker pool,
	// for a check that waits (a session store, an authentication service); meanwhile the
	// connection reads nothing, and the frames the client sent after the handshake wait for
	// the 101. Without it Authorize runs on the loop and must not block.
	AuthorizeOffLoop bool
	// SelectSubprotocol, when set, chooses the subprotocol instead of the client's first
	// one the route speaks: offered lists the route's Subprotocols that the client offered,
	// in the client's order, and value is what Authorize returned (nil without Authorize).
	// It returns one of offered, or "" for none (a name not in offered counts as none).
	SelectSubprotocol func(value any, offered []string) string
	// Compression enables permessage-deflate with these settings (nil: off).
	Compression *ws.DeflateConfig
	// CompressThreshold is the size below which messages are sent uncompressed (default 256).
	CompressThreshold int
	// MaxMessageSize bounds a received message, compressed and inflated (default 16 MiB; 1009).
	MaxMessageSize int
	// MaxInflateRatio, when positive, also bounds a compressed message's inflated size to
	// this many times its compressed size (at least 64 KiB; 1009). Set it on routes that
	// echo or relay what they receive: there a message costs the server its inflated size
	// again to compress and send, and 20 KB of zeros inflate to 16 MiB.
	MaxInflateRatio int
	// SendBudget bounds the bytes queued for a connection that the peer has not taken yet
	// (default 1 MiB); past it Overflow applies to data messages. A message larger than the
	// whole budget is still sent when the queue is under the budget, so the backlog stays
	// below SendBudget plus one message.
	SendBudget int
	Overflow   OverflowPolicy
	// PingInterval is how long a connection may be silent before the server pings it
	// (default 30s); PongTimeout how long it then waits for any frame (default 10s).
	PingInterval, PongTimeout time.Duration
	// CloseTimeout bounds the wait for the peer's close frame after ours (default 5s).
	CloseTimeout time.Duration
}

// route is a Handler with defaults applied, shared by its connections.
type route struct {
	Handler
	scratch server.PerLoop[loopScratch]
}

// New returns the Upgrader for a WebSocket route:
//
//	srv.Route("/chat", server.Route{Upgraders: []server.Upgrader{websocket.New(h)}})
func New(h Handler) server.Upgrader {
	if h.CompressThreshold <= 0 {
		h.CompressThreshold = 256
	}
	if h.MaxMessageSize <= 0 {
		h.MaxMessageSize = ws.DefaultMaxMessageSize
	}
	if h.SendBudget <= 0 {
		h.SendBudget = 1 << 20
	}
	// The send accounting is 32-bit (it keeps Conn small): at most one message beyond
	// the budget is ever queued, so both stay within 1 GiB.
	h.MaxMessageSize, h.SendBudget = min(h.MaxMessageSize, 1<<30), min(h.SendBudget, 1<<30)
	if len(h.Subprotocols) > 255 {
		h.Subprotocols = h.Subprotocols[:255]
	}
	if h.PingInterval <= 0 {
		h.PingInterval = 30 * time.Second
	}
	if h.PongTimeout <= 0 {
		h.PongTimeout = 10 * time.Second
	}
	if h.CloseTimeout <= 0 {
		h.CloseTimeout = 5 * time.Second
	}
	return &route{Handler: h}
}

// Token is the Upgrade token of RFC 6455 §4.2.1.
func (rt *route) Token() string { return "websocket" }

// The rejections of RFC 6455 §4.2.1-§4.2.2, each saying what to fix.
var (
	errWSMethod = &server.Rejection{Status: 400, Reason: "WebSocket handshake: the method must be GET (RFC 6455 §4.2.1)."}
	errWSKey    = &server.Rejection{Status: 400, Reason: "WebSocket handshake: Sec-WebSocket-Key is missing, repeated, or not the base64 of 16 bytes (RFC 6455 §4.2.1)."}
	errWSVer    = &server.Rejection{Status: 426, Header: "Sec-WebSocket-Version: 13\r\n",
		Reason: "WebSocket handshake: Sec-WebSocket-Version must be 13 (RFC 6455 §4.2.2); the server speaks only version 13."}
	errWSOrigin = &server.Rejection{Status: 403, Reason: "WebSocket handshake: the Origin is not allowed to connect to this endpoint (cross-origin request)."}
)

// websocketGUID is the fixed string of RFC 6455 §1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Upgrade validates the opening handshake (RFC 6455 §4.2.1) and builds the 101's headers.
func (rt *route) Upgrade(c *server.Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	req := r.HTTP1()
	if string(r.Method) != "GET" {
		return nil, hdr, errWSMethod
	}
	if req.Count(parser.HeaderSecWebSocketVersion) != 1 || string(req.Get(parser.HeaderSecWebSocketVersion)) != "13" {
		return nil, hdr, errWSVer
	}
	key := req.Get(parser.HeaderSecWebSocketKey)
	var raw [18]byte
	if req.Count(parser.HeaderSecWebSocketKey) != 1 || len(key) != 24 {
		return nil, hdr, errWSKey
	}
	if n, err := base64.StdEncoding.Decode(raw[:], key); err != nil || n != 16 {
		return nil, hdr, errWSKey
	}
	if !rt.originAllowed(r, req) {
		return nil, hdr, errWSOrigin
	}

	hdr = append(hdr, "Sec-WebSocket-Accept: "...)
	hdr = appendAcceptKey(hdr, key)
	hdr = append(hdr, "\r\n"...)
	w := &Conn{c: c, rt: rt}
	if rt.Compression != nil && req.Count(parser.HeaderSecWebSocketExtensions) > 0 {
		if params, ok := rt.Compression.Negotiate(extensionValues(req)...); ok {
			w.deflate = &deflateState{params: params}
			hdr = append(hdr, "Sec-WebSocket-Extensions: "...)
			hdr = params.AppendResponse(hdr)
			hdr = append(hdr, "\r\n"...)
		}
	}
	if rt.Authorize == nil {
		return rt.accept(w, rt.chooseSubprotocol(req), hdr)
	}
	if rt.AuthorizeOffLoop {
		return c.UpgradeOffLoop(hdr, func(r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
			return rt.authorize(w, r, hdr)
		})
	}
	return rt.authorize(w, r, hdr)
}

// accept makes w the protocol of the connection, speaking Subprotocols[sub] (none when
// sub is -1).
func (rt *route) accept(w *Conn, sub int, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	if sub >= 0 {
		w.subprotocol = uint8(sub + 1)
		hdr = append(hdr, "Sec-WebSocket-Protocol: "...)
		hdr = append(hdr, rt.Subprotocols[sub]...)
		hdr = append(hdr, "\r\n"...)
	}
	return (*session)(w), hdr, nil
}

// appendAcceptKey appends Sec-WebSocket-Accept for key (RFC 6455 §4.2.2 step 5.4).
func appendAcceptKey(dst, key []byte) []byte {
	var buf [24 + len(websocketGUID)]byte
	copy(buf[copy(buf[:], key):], websocketGUID)
	sum := sha1.Sum(buf[:])
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// extensionValues gathers every Sec-WebSocket-Extensions line, in order.
func extensionValues(req *parser.Request) [][]byte {
	var out [][]byte
	for i := range req.Headers {
		if req.Headers[i].ID == parser.HeaderSecWebSocketExtensions {
			out = append(out, req.Headers[i].Value)
		}
	}
	return out
}

// chooseSubprotocol returns the index in rt.Subprotocols of the first protocol in the
// client's order the route speaks, or -1.
func (rt *route) chooseSubprotocol(req *parser.Request) int {
	if len(rt.Subprotocols) == 0 {
		return -1
	}
	it := req.Tokens(parser.HeaderSecWebSocketProtocol)
	for it.Next() {
		for i, s := range rt.Subprotocols {
			if string(it.Token()) == s { // subprotocol names are case-sensitive (RFC 6455 §11.5)
				return i
			}
		}
	}
	return -1
}

func (rt *route) originAllowed(r *server.Request, req *parser.Request) bool {
	if rt.CheckOrigin != nil {
		return rt.CheckOrigin(r)
	}
	origin := req.Get(parser.HeaderOrigin)
	if req.Count(parser.HeaderOrigin) == 0 {
		return true
	}
	if len(rt.AllowedOrigins) > 0 {
		for _, o := range rt.AllowedOrigins {
			if o == "*" || parser.EqualFold(origin, o) {
				return true
			}
		}
		return false
	}
	return sameOrigin(origin, req.Get(parser.HeaderHost))
}

// sameOrigin reports whether origin ("scheme://host[:port]") names host.
func sameOrigin(origin, host []byte) bool {
	for i := 0; i+2 < len(origin); i++ {
		if origin[i] == ':' && origin[i+1] == '/' && origin[i+2] == '/' {
			return parser.EqualFold(origin[i+3:], string(host))
		}
	}
	return false
}

// AllowAnyOrigin is a CheckOrigin that accepts every origin, for public endpoints such as
// `switchyard serve`'s echo (browsers send "Origin: null" from local files).
func AllowAnyOrigin(*server.Request) bool { return true }
