package main

import (
	"fmt"
	"slices"
)

// tlsFiles are -tls-cert and -tls-key. When set, a peer serves its routes over TLS with
// its library's own TLS, as its documentation shows:
//
//   - gws: Server.RunTLS (crypto/tls via tls.NewListener, ALPN http/1.1), ReadLoop goroutines
//   - nbio: nbhttp.Config.AddrsTLS + TLSConfig, nbio's non-blocking TLS (lesismal/llib's fork
//     of crypto/tls) on its poller goroutines, no goroutine per connection
//   - gorilla, nethttp: http.Server.ListenAndServeTLS (crypto/tls; ALPN h2 and http/1.1, so
//     nethttp over TLS is net/http's HTTP/2 server)
//
// Every peer keeps crypto/tls's defaults otherwise (TLS 1.2 and 1.3, session tickets on):
// the harness's clients choose what is negotiated.
var tlsFiles tlsOpts

type tlsOpts struct{ cert, key string }

// tlsPeers are the peers that serve TLS.
var tlsPeers = []string{"gws", "nbio", "gorilla", "nethttp"}

func (t tlsOpts) on() bool { return t.cert != "" }

func (t tlsOpts) check(server string) error {
	switch {
	case (t.cert == "") != (t.key == ""):
		return fmt.Errorf("-tls-cert and -tls-key go together")
	case t.on() && !slices.Contains(tlsPeers, server):
		return fmt.Errorf("-server %s has no TLS here (TLS peers: %v)", server, tlsPeers)
	}
	return nil
}

func (t tlsOpts) describe() string {
	if !t.on() {
		return ""
	}
	return " (TLS)"
}
