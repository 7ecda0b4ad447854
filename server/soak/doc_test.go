// Package soak is switchyard's soak and fault test: TestSoak runs an in-process server
// with the routes of `switchyard serve` against many well-behaved clients over HTTP/1.1,
// WebSocket and HTTP/2 while fault injectors disconnect mid-frame and mid-request, read
// slowly, half-close, go silent and send garbage. It checks that every well-behaved
// exchange comes back intact and in order, that the server keeps serving throughout, that
// its goroutines, heap and open connections return to their baseline once the clients
// have left, and that its counters (server.Stats) agree with what the clients counted.
//
// The clients are written against libraries the server does not use for the same job
// (net/http's response parser, gobwas/ws framing, compress/flate, x/net/http2's Framer and
// hpack), so they judge the server's bytes independently.
//
//	go test ./server/soak                                  # 5 s, as `make test` runs it
//	go test -v -run TestSoak ./server/soak -soak.duration=2m   # `make soak`
package soak
