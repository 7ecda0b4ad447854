package websocket

import (
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
)

// errWSDeclined answers an Authorize that returned server.Decline.
var errWSDeclined = &server.Rejection{Status: 403, Kind: "unauthorized",
	Reason: "WebSocket handshake: not authorized."}

// runAuthorize runs the route's Authorize; a refusal that is no answer (Decline, a status
// outside 200-599) becomes 403, and one without a Kind counts as "unauthorized".
func (rt *route) runAuthorize(r *server.Request) (any, *server.Rejection) {
	value, rej := rt.Authorize(r)
	if rej == nil {
		return value, nil
	}
	if rej == server.Decline || rej.Status < 200 || rej.Status > 599 {
		rej = errWSDeclined
	}
	if rej.Kind == "" {
		k := *rej
		k.Kind = "unauthorized"
		rej = &k
	}
	return nil, rej
}

// authorize runs the route's Authorize on a valid handshake, on the loop or on the worker
// pool (AuthorizeOffLoop), then settles the subprotocol; w is the connection to be.
func (rt *route) authorize(w *Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	value, rej := rt.runAuthorize(r)
	if rej != nil {
		return nil, hdr, rej
	}
	w.value = value
	return rt.accept(w, rt.selectSubprotocol(r.HTTP1(), value), hdr)
}

// selectSubprotocol is chooseSubprotocol, or the route's SelectSubprotocol's choice among
// the route's subprotocols the client offered.
func (rt *route) selectSubprotocol(req *parser.Request, value any) int {
	if req == nil {
		return -1
	}
	if rt.SelectSubprotocol == nil || len(rt.Subprotocols) == 0 {
		return rt.chooseSubprotocol(req)
	}
	var offered []string
	var index []int
	it := req.Tokens(parser.HeaderSecWebSocketProtocol)
	for it.Next() {
		for i, s := range rt.Subprotocols {
			if string(it.Token()) == s {
				offered, index = append(offered, s), append(index, i)
				break
			}
		}
	}
	return rt.pickOffered(value, offered, index)
}

// pickOffered asks SelectSubprotocol to choose among the offered subprotocols the route
// also speaks (index: their positions in rt.Subprotocols), and returns the position of
// its choice, or -1 for none.
func (rt *route) pickOffered(value any, offered []string, index []int) int {
	if len(offered) == 0 {
		return -1
	}
	choice := rt.SelectSubprotocol(value, offered)
	for i, s := range offered {
		if s == choice {
			return index[i]
		}
	}
	return -1
}

// ValueOf returns the value Authorize (or SetValue) attached to c, as a T: ok is false
// when it holds none, or not a T. Loop only, like Value.
func ValueOf[T any](c *Conn) (v T, ok bool) {
	v, ok = c.value.(T)
	return v, ok
}
