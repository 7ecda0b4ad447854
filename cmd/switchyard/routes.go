package main

import (
	"slices"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

const rootText = "switchyard: HTTP/1.1 and HTTP/2 (h2c) here; WebSocket echo at /echo\n"

// installRoutes sets up the configured routes (by default: GET / answers 200 with a short
// text; /echo requires an upgrade over HTTP/1.1 (426 otherwise) and echoes WebSocket
// messages, or over HTTP/2 the request body) and HTTP/2 on every route, by h2c upgrade and
// prior knowledge. The client's Upgrade order picks between websocket and h2c.
func installRoutes(srv *server.Server, cfg *serveConfig) {
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = defaultRoutes
	}
	for _, rc := range routes {
		srv.Route(rc.Path, buildRoute(rc))
	}
	if !cfg.HTTP2.Disabled {
		srv.EnableHTTP2(server.H2Config{MaxConcurrentStreams: cfg.HTTP2.MaxConcurrentStreams})
	}
}

func buildRoute(rc routeConfig) server.Route {
	if rc.Kind == "text" {
		text := rc.Text
		return server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			w.Header("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.WriteString(text)
		}}
	}
	h := websocketHandler(rc.WebSocket)
	if rc.Kind == "broadcast" {
		hub := server.NewHub()
		h.OnOpen = hub.Add
		h.OnClose = func(c *server.WSConn, _ ws.StatusCode, _ string) { hub.Remove(c) }
		h.OnMessage = func(c *server.WSConn, m server.Message) {
			hub.Broadcast(server.NewPreparedMessage(m.Op, m.Payload, 0, 0))
		}
	} else {
		h.OnMessage = func(c *server.WSConn, m server.Message) { _ = c.Reply(m.Op, m.Payload) }
	}
	require := rc.RequireUpgrade == nil || *rc.RequireUpgrade
	return server.Route{RequireUpgrade: require, Upgraders: []server.Upgrader{server.WebSocket(h)}, HTTP: echoBody}
}

// websocketHandler applies a route's WebSocket settings (nil: the defaults, with
// permessage-deflate offered and any origin accepted).
func websocketHandler(wc *websocketConfig) server.WebSocketHandler {
	h := server.WebSocketHandler{CheckOrigin: server.AllowAnyOrigin, Compression: &ws.DeflateConfig{}}
	if wc == nil {
		return h
	}
	if wc.Compression != nil && !*wc.Compression {
		h.Compression = nil
	}
	if len(wc.Origins) > 0 {
		origins := wc.Origins
		h.CheckOrigin = func(r *server.Request) bool { return slices.Contains(origins, string(r.Get("Origin"))) }
	}
	h.Overflow, _ = overflowPolicy(wc.Overflow) // validated already
	h.CompressThreshold, h.MaxMessageSize, h.SendBudget = wc.CompressThreshold, wc.MaxMessageSize, wc.SendBudget
	h.Subprotocols = wc.Subprotocols
	h.PingInterval, h.CloseTimeout = time.Duration(wc.PingInterval), time.Duration(wc.CloseTimeout)
	return h
}
