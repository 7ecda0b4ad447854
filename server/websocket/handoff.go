package websocket

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"golang.org/x/net/http/httpguts"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/headerlines"
)

// ErrBadHandshake is returned by Handoff for a request that is not a valid WebSocket
// opening handshake; the client has been answered already.
var ErrBadHandshake = errors.New("switchyard: not a valid WebSocket handshake (answered)")

// errWSUpgrade answers a request that does not ask for the WebSocket upgrade, as a
// WebSocket route of switchyard's own does (426, RFC 9110 §15.5.22).
var errWSUpgrade = &server.Rejection{Status: 426,
	Reason: "WebSocket handshake: the request must carry Upgrade: websocket and Connection: upgrade (RFC 6455 §4.2.1); a proxy may have removed them."}

// Handoff lets a program that keeps its net/http server serve its WebSockets on srv's
// event loops. Call it from the net/http handler of a WebSocket endpoint:
//
//	http.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
//		if err := websocket.Handoff(srv, w, r); err != nil {
//			log.Print(err) // a bad handshake has been answered; other errors say why
//		}
//	})
//
// It checks the handshake with this package's rules (GET, Upgrade and Connection,
// Sec-WebSocket-Version 13, a Sec-WebSocket-Key of 16 bytes) and answers a bad one through
// w as a switchyard route would (400 or 426, a body naming the rule), returning
// ErrBadHandshake. A good one is hijacked and handed to srv (server.Server.Handoff): srv's
// route for r's path completes it on a loop, with its origin check, Authorize,
// subprotocol and permessage-deflate negotiation, writes the 101 there, and serves the
// connection like any of its own (budgets, pings, idle and close timeouts, Hub
// membership, Stats), including frames the client sent right behind its request. After a
// nil return net/http holds no goroutine or buffer for the connection.
//
// srv must be serving (it needs a listener of its own for Serve, e.g. "127.0.0.1:0"),
// and a route on r's path must take the WebSocket upgrade, or srv answers as it would
// answer the request (404, 426). The connection must be cleartext: over TLS Handoff
// returns server.ErrHandoffTLS without writing to w (let switchyard terminate TLS, or
// serve that endpoint from net/http).
func Handoff(srv *server.Server, w http.ResponseWriter, r *http.Request) error {
	if rej := checkHandshake(r); rej != nil {
		answer(w, rej)
		return ErrBadHandshake
	}
	return srv.Handoff(w, r)
}

// checkHandshake applies the checks of rt.Upgrade that need no route (RFC 6455 §4.2.1)
// to a request net/http parsed.
func checkHandshake(r *http.Request) *server.Rejection {
	if r.Method != http.MethodGet {
		return errWSMethod
	}
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 ||
		!httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade") ||
		!httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "websocket") {
		return errWSUpgrade
	}
	if v := r.Header["Sec-Websocket-Version"]; len(v) != 1 || v[0] != "13" {
		return errWSVer
	}
	key := r.Header["Sec-Websocket-Key"]
	if len(key) != 1 || len(key[0]) != 24 {
		return errWSKey
	}
	if raw, err := base64.StdEncoding.DecodeString(key[0]); err != nil || len(raw) != 16 {
		return errWSKey
	}
	return nil
}

// answer writes rej through net/http: its status, header lines and body; a 426 names
// the protocol it wants, as the server's own 426s do (RFC 9110 §15.5.22).
func answer(w http.ResponseWriter, rej *server.Rejection) {
	headerlines.Each(rej.Header, w.Header().Add)
	if rej.Status == http.StatusUpgradeRequired {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
	}
	body := rej.Reason
	if rej.ContentType == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		body += "\n"
	} else {
		w.Header().Set("Content-Type", rej.ContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rej.Status)
	_, _ = w.Write([]byte(body))
}
