package main

import "github.com/switchyard-dev/switchyard/server"

const rootText = "switchyard: HTTP/1.1 here; WebSocket echo at /echo\n"

// standaloneRoutes installs the routes of `switchyard serve`: GET / answers 200 with a
// short text and /echo requires an upgrade.
func standaloneRoutes(srv *server.Server) {
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(rootText)
	}})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: echoUpgraders()})
}
