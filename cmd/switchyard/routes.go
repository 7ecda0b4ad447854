package main

import (
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
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
		srv.Upgrade(http2.New(http2.Config{MaxConcurrentStreams: cfg.HTTP2.MaxConcurrentStreams}))
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
		hub := websocket.NewHub()
		h.OnOpen = hub.Add
		h.OnClose = func(c *websocket.Conn, _ websocket.StatusCode, _ string) { hub.Remove(c) }
		h.OnMessage = func(c *websocket.Conn, m websocket.Message) {
			hub.Broadcast(websocket.NewPreparedMessage(m.Op, m.Payload))
		}
	} else {
		h.OnMessage = func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) }
	}
	require := rc.RequireUpgrade == nil || *rc.RequireUpgrade
	return server.Route{RequireUpgrade: require, Upgraders: []server.Upgrader{websocket.New(h)}, HTTP: echoBody}
}

// websocketHandler applies a route's WebSocket settings (nil: the defaults, with
// permessage-deflate offered and any origin accepted).
func websocketHandler(wc *websocketConfig) websocket.Handler {
	h := websocket.Handler{CheckOrigin: websocket.AllowAnyOrigin, Compression: &ws.DeflateConfig{}}
	if wc == nil {
		return h
	}
	if wc.Compression != nil && !*wc.Compression {
		h.Compression = nil
	}
	if len(wc.Origins) > 0 {
		// Listed origins only, for browsers; clients that send no Origin (not browsers)
		// are not cross-site requests and stay welcome.
		h.CheckOrigin, h.AllowedOrigins = nil, wc.Origins
	}
	h.Overflow, _ = overflowPolicy(wc.Overflow) // validated already
	h.CompressThreshold, h.MaxMessageSize, h.SendBudget = wc.CompressThreshold, wc.MaxMessageSize, wc.SendBudget
	h.Subprotocols = wc.Subprotocols
	h.PingInterval, h.CloseTimeout = time.Duration(wc.PingInterval), time.Duration(wc.CloseTimeout)
	return h
}
