package main

import (
	"net/http"
	"sync"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// serveNbio is lesismal/nbio in non-blocking mode: connections are served by nbio's
// poller goroutines, not one goroutine each, the mode its authors recommend for a
// million connections.
func serveNbio(addr string) error {
	var (
		mu   sync.Mutex
		subs = map[*websocket.Conn]struct{}{}
	)
	echo := websocket.NewUpgrader()
	echo.EnableCompression(true)
	echo.CheckOrigin = func(*http.Request) bool { return true }
	echo.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		_ = c.WriteMessage(mt, data)
	})
	sub := websocket.NewUpgrader()
	sub.CheckOrigin = echo.CheckOrigin
	sub.OnOpen(func(c *websocket.Conn) { mu.Lock(); subs[c] = struct{}{}; mu.Unlock() })
	sub.OnClose(func(c *websocket.Conn, _ error) { mu.Lock(); delete(subs, c); mu.Unlock() })
	pub := websocket.NewUpgrader()
	pub.CheckOrigin = echo.CheckOrigin
	pub.OnMessage(func(_ *websocket.Conn, mt websocket.MessageType, data []byte) {
		mu.Lock()
		for s := range subs {
			_ = s.WriteMessage(mt, data)
		}
		mu.Unlock()
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(rootText)) })
	for p, u := range map[string]*websocket.Upgrader{"/echo": echo, "/sub": sub, "/pub": pub} {
		u := u
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { _, _ = u.Upgrade(w, r, nil) })
	}
	conf := nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{addr},
		MaxLoad:                 1000000,
		ReleaseWebsocketPayload: true,
		Handler:                 mux,
		IOMod:                   nbhttp.IOModNonBlocking,
	}
	if tlsFiles.on() {
		// nbio's TLS: llib's non-blocking fork of crypto/tls, handshakes and records on the
		// poller goroutines like the cleartext path (nbio's examples/tls).
		cert, err := tls.LoadX509KeyPair(tlsFiles.cert, tlsFiles.key)
		if err != nil {
			return err
		}
		conf.Addrs, conf.AddrsTLS = nil, []string{addr}
		conf.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	}
	engine := nbhttp.NewEngine(conf)
	if err := engine.Start(); err != nil {
		return err
	}
	select {}
}
