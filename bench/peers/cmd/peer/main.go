// Command peer runs one of the servers switchyard is compared with, all serving the same
// contract so the bench harness can drive them alike:
//
//   - GET /         200 with a short text (HTTP/1.1; the h2c peer also over HTTP/2)
//   - /echo         WebSocket echo: each message comes back with its opcode
//   - /pub, /sub    WebSocket broadcast: a message sent on /pub goes, unchanged, to every
//     connection open on /sub (the publisher does not get it back)
//
// A peer serves only the parts its library is for (the HTTP/1.1 peers have no WebSocket
// routes); the harness knows which scenario each peer takes part in. Each one is set up as
// its authors recommend for many connections.
//
// With -tls-cert and -tls-key the peers that have TLS (gws, nbio, gorilla, nethttp) serve
// the same routes over TLS instead, each with its library's own TLS (tls.go).
//
//	peer -server gws -addr 127.0.0.1:9001
//	peer -server nbio -addr 127.0.0.1:9443 -tls-cert cert.pem -tls-key key.pem
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// rootText is the body of GET / for every peer.
const rootText = "peer: HTTP/1.1 here; WebSocket echo at /echo\n"

var servers = map[string]func(addr string) error{
	"gws":          serveGWS,
	"nbio":         serveNbio,
	"gorilla":      serveGorilla,
	"gobwas":       serveGobwas,
	"gnet":         serveGnet,
	"gnet-lean":    serveGnetLean,
	"uring-lean":   serveUringLean,
	"uring-hybrid": serveUringHybrid,
	"uring-recv":   serveUringRecv,
	"fasthttp":     serveFasthttp,
	"nethttp":      serveNetHTTP,
	"h2c":          serveH2C,
}

func main() {
	name := flag.String("server", "", "server to run: "+names())
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	flag.StringVar(&tlsFiles.cert, "tls-cert", "", "PEM certificate: serve over TLS (gws, nbio, gorilla, nethttp)")
	flag.StringVar(&tlsFiles.key, "tls-key", "", "PEM private key of -tls-cert")
	flag.Parse()
	run, ok := servers[*name]
	if !ok {
		fmt.Fprintf(os.Stderr, "peer: unknown -server %q (one of %s)\n", *name, names())
		os.Exit(2)
	}
	if err := tlsFiles.check(*name); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(2)
	}
	go func() {
		// The harness stops a peer with SIGTERM; none of them needs a graceful drain.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		os.Exit(0)
	}()
	fmt.Printf("peer %s listening on %s%s\n", *name, *addr, tlsFiles.describe())
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for k := range servers {
		n = append(n, k)
	}
	sort.Strings(n)
	return fmt.Sprint(n)
}
