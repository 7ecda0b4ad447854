package server_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/switchyard-dev/switchyard/server"
)

// A net/http handler mounted on a prefix route: here a ServeMux with its own patterns
// behind http.StripPrefix, as an existing net/http API would be. It runs on the worker
// pool; the rest of the server stays native.
func ExampleNetHTTPRoute() {
	api := http.NewServeMux()
	api.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`+"\n", r.PathValue("id"))
	})

	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/api/", server.NetHTTPRoute(http.StripPrefix("/api", api)))
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.WriteString("native\n")
	}})
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	fmt.Print(get(srv, "/api/users/7"))
	fmt.Print(get(srv, "/"))
	stop()
	<-done
	// Output:
	// 200 {"id":"7"}
	// 200 native
}
