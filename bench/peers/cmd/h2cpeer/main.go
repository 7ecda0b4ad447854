// Command h2cpeer runs the x/net/http2 h2c comparison server (package h2cpeer) for
// h2load: go run ./cmd/h2cpeer -addr 127.0.0.1:8081
package main

import (
	"flag"
	"fmt"
	"log"
	"net"

	"github.com/switchyard-dev/switchyard/bench/peers/h2cpeer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("h2cpeer (x/net/http2 h2c) listening on %s\n", ln.Addr())
	log.Fatal(h2cpeer.Serve(ln))
}
