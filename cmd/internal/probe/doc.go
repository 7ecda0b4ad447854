// Package probe is the diagnostic client behind `switchyard probe URL`: it asks an HTTP
// endpoint, one fresh connection per question, whether and how it upgrades (RFC 9110 §7.8)
// to WebSocket (RFC 6455) and HTTP/2 (RFC 7540 §3.2, RFC 9113 §3.3), whether it runs
// WebSockets over HTTP/2 streams (RFC 8441, h2ws.go), and explains what it
// saw: the answer to each probe, a verdict per probe, and a diagnosis naming the likely
// cause of a 426 or a failed handshake (a proxy that strips hop-by-hop headers, a server
// that requires another protocol, a version mismatch, an endpoint that speaks only
// HTTP/1.1). Over TLS (https://, wss://) it also reports the version, what each ALPN
// offer got (RFC 7301) and the server's certificate (names, issuer, expiry, self-signed,
// trusted or not: verified as crypto/tls would, even when --insecure lets the probe go on).
//
// It is a client tool, not a server path: it favours clear code over speed, writes its
// requests by hand so that it can send exactly the malformed variants it needs, and parses
// responses with net/http's ReadResponse. Every read and write is bounded by the probe's
// timeout and every body read by a byte limit, so a hostile or broken endpoint can make a
// probe fail but not hang or exhaust memory.
package probe
