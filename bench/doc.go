// Package bench is switchyard's benchmark harness: it runs scenarios (WebSocket echo,
// handshakes, idle holds, broadcast, HTTP/1.1 and HTTP/2 load) against switchyard and
// its peers, one server process at a time, alternating servers round after round so
// that every figure is taken side by side on the same machine, and reports medians and
// ratios against switchyard as JSON, Markdown and an SVG chart.
//
// The load generator is the harness's own: raw sockets, gobwas/ws for the opening
// handshake, and epoll loops of its own for the traffic (loadclient.go, clientloop.go),
// so ten thousand connections cost a few goroutines and the client leaves as much CPU as
// it can to the server. The
// server's CPU time comes from /proc/PID/stat and its memory from /proc/PID/status; the
// harness measures its own CPU too, so a report shows when the client was the bottleneck.
//
// The TLS scenarios (tls-*, tls.go, tlsload.go, tlsloop.go) run the same kinds over TLS
// with one ECDSA P-256 certificate per run; on the epoll loops crypto/tls reads and
// writes the loops' buffers, so the echo client stays as cheap as the cleartext one.
//
// The peers (gws, nbio, gorilla, gobwas, a gnet example, fasthttp, net/http, x/net h2c)
// live in the nested module bench/peers so their dependencies stay out of switchyard's
// go.mod; the harness runs them as separate processes.
package bench
