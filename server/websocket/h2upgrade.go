package websocket

import (
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
)

// WebSocket over HTTP/2 (RFC 8441): the route's upgrader is also a server.ConnectUpgrader,
// so an extended CONNECT with :protocol websocket on the route's path opens a WebSocket on
// its stream, served by the same Handler as an HTTP/1.1 upgrade. RFC 8441 §5 drops the
// Sec-WebSocket-Key/Accept exchange (the stream already proves the server understood);
// the version, origin, subprotocol and extension rules are those of RFC 6455.

var _ server.ConnectUpgrader = (*route)(nil)

// UpgradeConnect validates an extended CONNECT for a WebSocket (RFC 8441 §5) and builds
// the 200's fields: c is the child connection on the stream, r the request.
func (rt *route) UpgradeConnect(c *server.Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	if countField(r, "sec-websocket-version") != 1 || string(r.Get("sec-websocket-version")) != "13" {
		return nil, hdr, errWSVer
	}
	if !rt.originAllowedH2(r) {
		return nil, hdr, errWSOrigin
	}
	w := &Conn{c: c, rt: rt}
	if rt.Compression != nil {
		var offers [][]byte
		for i := range r.Header {
			if parser.EqualFold(r.Header[i].Name, "sec-websocket-extensions") {
				offers = append(offers, r.Header[i].Value)
			}
		}
		if len(offers) > 0 {
			if params, ok := rt.Compression.Negotiate(offers...); ok {
				w.deflate = &deflateState{params: params}
				hdr = append(hdr, "Sec-WebSocket-Extensions: "...)
				hdr = params.AppendResponse(hdr)
				hdr = append(hdr, "\r\n"...)
			}
		}
	}
	if rt.Authorize == nil {
		return rt.accept(w, rt.subprotocolH2(r, nil), hdr)
	}
	if rt.AuthorizeOffLoop {
		return c.ConnectOffLoop(hdr, func(r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
			return rt.authorizeH2(w, r, hdr)
		})
	}
	return rt.authorizeH2(w, r, hdr)
}

// authorizeH2 is authorize over HTTP/2's fields: Authorize, then the subprotocol.
func (rt *route) authorizeH2(w *Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	value, rej := rt.runAuthorize(r)
	if rej != nil {
		return nil, hdr, rej
	}
	w.value = value
	return rt.accept(w, rt.subprotocolH2(r, value), hdr)
}

// countField counts the fields named name (lowercase, as HTTP/2 has them).
func countField(r *server.Request, name string) int {
	n := 0
	for i := range r.Header {
		if parser.EqualFold(r.Header[i].Name, name) {
			n++
		}
	}
	return n
}

// subprotocolH2 is chooseSubprotocol and selectSubprotocol over HTTP/2's fields: the
// index of the route's subprotocol to speak, or -1.
func (rt *route) subprotocolH2(r *server.Request, value any) int {
	if len(rt.Subprotocols) == 0 {
		return -1
	}
	var offered []string
	var index []int
	for i := range r.Header {
		if !parser.EqualFold(r.Header[i].Name, "sec-websocket-protocol") {
			continue
		}
		it := parser.TokensOf(r.Header[i].Value)
		for it.Next() {
			for j, s := range rt.Subprotocols {
				if string(it.Token()) == s { // case-sensitive (RFC 6455 §11.5)
					if rt.SelectSubprotocol == nil {
						return j
					}
					offered, index = append(offered, s), append(index, j)
					break
				}
			}
		}
	}
	return rt.pickOffered(value, offered, index)
}

// originAllowedH2 is originAllowed with :authority as the host.
func (rt *route) originAllowedH2(r *server.Request) bool {
	if rt.CheckOrigin != nil {
		return rt.CheckOrigin(r)
	}
	if countField(r, "origin") == 0 {
		return true
	}
	origin := r.Get("origin")
	if len(rt.AllowedOrigins) > 0 {
		for _, o := range rt.AllowedOrigins {
			if o == "*" || parser.EqualFold(origin, o) {
				return true
			}
		}
		return false
	}
	return sameOrigin(origin, r.Host)
}
