package main

import (
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

const rootText = "switchyard: HTTP/1.1 and HTTP/2 (h2c) here; WebSocket echo at /echo\n"

// installRoutes sets up the configured routes (by default: / answers 200 with a short
// text, other paths but /echo 404; /echo requires an upgrade over HTTP/1.1 (426 otherwise) and echoes WebSocket
// messages, or over HTTP/2 the request body) and HTTP/2 on every route, by h2c upgrade and
// prior knowledge. The client's Upgrade order picks between websocket and h2c.
//
// The routes are built once and installed on srv and on more (the TLS listener's server):
// a broadcast room is one room whichever listener its members came through.
func installRoutes(srv *server.Server, cfg *serveConfig, more ...*server.Server) {
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = defaultRoutes
	}
	servers := append([]*server.Server{srv}, more...)
	for _, rc := range routes {
		r := buildRoute(rc, cfg.rooms)
		for _, s := range servers {
			s.Route(rc.Path, r)
		}
	}
	if !cfg.HTTP2.Disabled {
		h2 := http2.New(http2.Config{MaxConcurrentStreams: cfg.HTTP2.MaxConcurrentStreams})
		for _, s := range servers {
			s.Upgrade(h2)
		}
	}
}

// broadcastSendBudget is a broadcast member's default send budget.
const broadcastSendBudget = 256 << 10

// defaultInflateRatio is how much larger than its compressed form a message to an echo or
// broadcast route may inflate.
const defaultInflateRatio = 32

func buildRoute(rc routeConfig, rooms *topics.Topics) server.Route {
	if rc.Kind == "text" {
		text := rc.Text
		return server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			w.Header("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.WriteString(text)
		}}
	}
	h := websocketHandler(rc.WebSocket)
	if rc.Kind == "broadcast" {
		if rc.WebSocket == nil || rc.WebSocket.SendBudget == 0 {
			// Every member of a room holds its own backlog of the same messages: a smaller
			// budget than an echo's keeps a room of slow members within memory.
			h.SendBudget = broadcastSendBudget
		}
		if rooms != nil {
			roomOverNATS(&h, rooms, rc.Path)
			return websocketRoute(rc, h)
		}
		hub := websocket.NewHub()
		h.OnOpen = hub.Add
		h.OnClose = func(c *websocket.Conn, _ websocket.StatusCode, _ string) { hub.Remove(c) }
		h.OnMessage = func(c *websocket.Conn, m websocket.Message) {
			hub.Broadcast(websocket.NewPreparedMessage(m.Op, m.Payload))
		}
	} else {
		h.OnMessage = func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) }
	}
	return websocketRoute(rc, h)
}

func websocketRoute(rc routeConfig, h websocket.Handler) server.Route {
	require := rc.RequireUpgrade == nil || *rc.RequireUpgrade
	return server.Route{RequireUpgrade: require, Upgraders: []server.Upgrader{websocket.New(h)}, HTTP: echoBody}
}

// websocketHandler applies a route's WebSocket settings (nil: the defaults, with
// permessage-deflate offered and any origin accepted).
func websocketHandler(wc *websocketConfig) websocket.Handler {
	// server_no_context_takeover unless a route asks: a compressor kept per connection
	// costs about 800 KiB each, a pooled one nothing between messages.
	// Echo and broadcast routes send again what they receive: a message may inflate to
	// 32 times what the client sent (at least 64 KiB), not to MaxMessageSize.
	h := websocket.Handler{CheckOrigin: websocket.AllowAnyOrigin, Compression: &ws.DeflateConfig{ServerNoContextTakeover: true},
		MaxInflateRatio: defaultInflateRatio}
	if wc == nil {
		return h
	}
	if wc.Compression != nil && !*wc.Compression {
		h.Compression = nil
	} else if wc.ContextTakeover {
		h.Compression = &ws.DeflateConfig{}
	}
	if len(wc.Origins) > 0 {
		// Listed origins only, for browsers; clients that send no Origin (not browsers)
		// are not cross-site requests and stay welcome.
		h.CheckOrigin, h.AllowedOrigins = nil, wc.Origins
	}
	h.Overflow, _ = overflowPolicy(wc.Overflow) // validated already
	h.CompressThreshold, h.MaxMessageSize, h.SendBudget = wc.CompressThreshold, wc.MaxMessageSize, wc.SendBudget
	if wc.MaxInflateRatio != 0 {
		h.MaxInflateRatio = wc.MaxInflateRatio
	}
	h.Subprotocols = wc.Subprotocols
	h.PingInterval, h.CloseTimeout = time.Duration(wc.PingInterval), time.Duration(wc.CloseTimeout)
	return h
}
