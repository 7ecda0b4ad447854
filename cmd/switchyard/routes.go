package main

import (
	"slices"

	"github.com/switchyard-dev/switchyard/server"
)

const rootText = "switchyard: HTTP/1.1 here; WebSocket echo at /echo\n"

// standaloneRoutes installs the routes of `switchyard serve`: GET / answers 200 with a
// short text and /echo requires an upgrade. origins restricts the WebSocket Origin header
// (empty: any origin, since browsers send "Origin: null" from local files).
func standaloneRoutes(srv *server.Server, origins []string) {
	checkOrigin := server.AllowAnyOrigin
	if len(origins) > 0 {
		checkOrigin = func(r *server.Request) bool { return slices.Contains(origins, string(r.Get("Origin"))) }
	}
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(rootText)
	}})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: echoUpgraders(checkOrigin)})
}
