package main

import (
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// serveGorilla is gorilla/websocket on net/http, a goroutine per connection as its
// examples do, with a shared write-buffer pool (the README's advice for many connections).
func serveGorilla(addr string) error {
	up := websocket.Upgrader{
		ReadBufferSize:    1024,
		WriteBufferSize:   1024,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: true,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	var hub gorillaHub
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(rootText)) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(mt, msg) != nil {
				return
			}
		}
	})
	mux.HandleFunc("/pub", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			pm, err := websocket.NewPreparedMessage(mt, msg)
			if err != nil {
				return
			}
			hub.broadcast(pm)
		}
	})
	mux.HandleFunc("/sub", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := hub.add(c)
		defer hub.remove(s)
		for { // read only to notice the close
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	})
	if tlsFiles.on() {
		return http.ListenAndServeTLS(addr, tlsFiles.cert, tlsFiles.key, mux)
	}
	return http.ListenAndServe(addr, mux)
}

// gorillaHub fans a prepared message out; gorilla allows one concurrent writer per
// connection, hence the lock per subscriber.
type gorillaHub struct {
	mu   sync.Mutex
	subs map[*gorillaSub]struct{}
}

type gorillaSub struct {
	mu sync.Mutex
	c  *websocket.Conn
}

func (h *gorillaHub) add(c *websocket.Conn) *gorillaSub {
	s := &gorillaSub{c: c}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*gorillaSub]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *gorillaHub) remove(s *gorillaSub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	s.c.Close()
}

func (h *gorillaHub) broadcast(pm *websocket.PreparedMessage) {
	h.mu.Lock()
	subs := make([]*gorillaSub, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		_ = s.c.WritePreparedMessage(pm)
		s.mu.Unlock()
	}
}
