package main

import (
	"slices"

	"github.com/switchyard-dev/switchyard/server"
)

const rootText = "switchyard: HTTP/1.1 and HTTP/2 (h2c) here; WebSocket echo at /echo\n"

// standaloneRoutes installs the routes of `switchyard serve`: GET / answers 200 with a
// short text; /echo requires an upgrade over HTTP/1.1 (426 otherwise) and echoes: WebSocket
// messages, or over HTTP/2 (h2c, on every route) the request body. The client's Upgrade
// order picks between websocket and h2c on /echo. origins restricts the WebSocket Origin
// header (empty: any origin, since browsers send "Origin: null" from local files).
func standaloneRoutes(srv *server.Server, origins []string, h2 server.H2Config) {
	checkOrigin := server.AllowAnyOrigin
	if len(origins) > 0 {
		checkOrigin = func(r *server.Request) bool { return slices.Contains(origins, string(r.Get("Origin"))) }
	}
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(rootText)
	}})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: echoUpgraders(checkOrigin), HTTP: echoBody})
	srv.EnableHTTP2(h2)
}
