package main

import (
	"net/http"
	"sync"

	"github.com/lxzan/gws"
)

// serveGWS is lxzan/gws's own server (gws.NewServer reads the handshake from the raw
// connection, skipping net/http), a ReadLoop goroutine per connection, as its README's
// quick start does.
func serveGWS(addr string) error {
	h := &gwsHandler{subs: map[*gws.Conn]struct{}{}}
	srv := gws.NewServer(h, &gws.ServerOption{
		PermessageDeflate: gws.PermessageDeflate{Enabled: true},
		Recovery:          gws.Recovery,
		Authorize: func(r *http.Request, s gws.SessionStorage) bool {
			switch r.URL.Path {
			case "/echo", "/pub", "/sub":
				s.Store("path", r.URL.Path)
				return true
			}
			return false
		},
	})
	if tlsFiles.on() {
		// gws's own TLS: tls.NewListener over crypto/tls, then the same ReadLoop goroutines.
		return srv.RunTLS(addr, tlsFiles.cert, tlsFiles.key)
	}
	return srv.Run(addr)
}

type gwsHandler struct {
	gws.BuiltinEventHandler
	mu   sync.Mutex
	subs map[*gws.Conn]struct{}
}

func path(c *gws.Conn) string {
	v, _ := c.Session().Load("path")
	s, _ := v.(string)
	return s
}

func (h *gwsHandler) OnOpen(c *gws.Conn) {
	if path(c) == "/sub" {
		h.mu.Lock()
		h.subs[c] = struct{}{}
		h.mu.Unlock()
	}
}

func (h *gwsHandler) OnClose(c *gws.Conn, err error) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

func (h *gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	switch path(c) {
	case "/echo":
		_ = c.WriteMessage(m.Opcode, m.Bytes())
	case "/pub":
		// gws's Broadcaster frames (and compresses) once for all subscribers.
		b := gws.NewBroadcaster(m.Opcode, m.Bytes())
		h.mu.Lock()
		for s := range h.subs {
			_ = b.Broadcast(s)
		}
		h.mu.Unlock()
		_ = b.Close()
	}
}
