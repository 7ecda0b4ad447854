package main

import (
	"net"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// serveGobwas is gobwas/ws on plain net: the zero-copy upgrade (ws.Upgrader reads the
// request straight off the socket, no net/http), then a goroutine per connection with
// wsutil's helpers, as the package's README shows.
func serveGobwas(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var hub gobwasHub
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			var route string
			u := ws.Upgrader{OnRequest: func(uri []byte) error {
				route = string(uri)
				switch route {
				case "/echo", "/pub", "/sub":
					return nil
				}
				return ws.RejectConnectionError(ws.RejectionStatus(404))
			}}
			if _, err := u.Upgrade(c); err != nil {
				c.Close()
				return
			}
			switch route {
			case "/echo":
				gobwasEcho(c)
			case "/pub":
				gobwasPub(c, &hub)
			case "/sub":
				hub.add(c)
				for { // read only to notice the close
					if _, _, err := wsutil.ReadClientData(c); err != nil {
						break
					}
				}
				hub.remove(c)
			}
			c.Close()
		}()
	}
}

func gobwasEcho(c net.Conn) {
	for {
		msg, op, err := wsutil.ReadClientData(c)
		if err != nil {
			return
		}
		if wsutil.WriteServerMessage(c, op, msg) != nil {
			return
		}
	}
}

func gobwasPub(c net.Conn, h *gobwasHub) {
	for {
		msg, op, err := wsutil.ReadClientData(c)
		if err != nil {
			return
		}
		// Frame once, write the same bytes to every subscriber.
		f, err := ws.CompileFrame(ws.NewFrame(op, true, msg))
		if err != nil {
			return
		}
		h.broadcast(f)
	}
}

type gobwasHub struct {
	mu   sync.Mutex
	subs map[net.Conn]*sync.Mutex
}

func (h *gobwasHub) add(c net.Conn) {
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[net.Conn]*sync.Mutex{}
	}
	h.subs[c] = new(sync.Mutex)
	h.mu.Unlock()
}

func (h *gobwasHub) remove(c net.Conn) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

func (h *gobwasHub) broadcast(frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, mu := range h.subs {
		mu.Lock()
		_, _ = c.Write(frame)
		mu.Unlock()
	}
}
