// Package frame holds the wire codecs of switchyard: pure functions and small
// state machines over byte slices that never perform I/O. The server package
// feeds them the bytes gnet hands it and writes what they produce.
//
// Sub-packages: ws (RFC 6455 WebSocket framing, RFC 7692 permessage-deflate)
// and h2 (RFC 9113 HTTP/2 framing).
package frame
