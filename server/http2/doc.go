// Package http2 is switchyard's HTTP/2 (RFC 9113). In cleartext it is entered by an h2c
// upgrade (RFC 7540 §3.2) or by the prior-knowledge preface, on the same connection and
// event loop as the HTTP/1.1 it replaces; over TLS, when ALPN selects "h2" (RFC 9113
// §3.2). Enable it with
//
//	srv.Upgrade(http2.New(http2.Config{}))
//
// Streams are served by the routes' HTTP handlers, through the same dispatch, Request and
// ResponseWriter as HTTP/1.1. Frames are decoded by package frame/h2 over the bytes the
// core hands the protocol; header blocks are decoded with golang.org/x/net/http2/hpack
// and encoded by frame/h2's own HPACK encoder. The protocol writes through the
// connection, so the core's send budget and timers apply to it.
//
// A server with a WebSocket route (any server.ConnectUpgrader) also speaks RFC 8441: it
// advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, and an extended CONNECT opens the protocol
// on its stream, which becomes the transport of a child server.Conn (extconnect.go): its
// input is the stream's DATA, its output DATA under the stream's flow control.
package http2
