package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/switchyard-dev/switchyard/server"
)

// Patterns with path parameters, prefixes and methods; the most specific one wins.
func ExampleServer_Route() {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	show := func(w *server.ResponseWriter, r *server.Request) {
		_, _ = w.WriteString(r.Pattern())
		if id := r.PathValue("id"); id != nil {
			_, _ = w.WriteString(" id=" + string(id)) // a view of r.Path: valid during the call
		}
	}
	srv.Route("GET /rooms/{id}", server.Route{HTTP: show})
	srv.Route("/rooms/lobby", server.Route{HTTP: show})
	srv.Route("/static/", server.Route{HTTP: show})
	ctx, stop := context.WithCancel(context.Background())
	_ = srv.Listen()
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	defer func() { stop(); <-done }()

	base := "http://" + srv.Addr().String()
	for _, req := range []string{"GET /rooms/42", "GET /rooms/lobby", "GET /static/app.js", "POST /rooms/42", "GET /nowhere"} {
		method, path, _ := strings.Cut(req, " ")
		r, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			body = []byte(resp.Header.Get("Allow"))
		}
		fmt.Printf("%s: %d %s\n", req, resp.StatusCode, body)
	}
	// Output:
	// GET /rooms/42: 200 GET /rooms/{id} id=42
	// GET /rooms/lobby: 200 /rooms/lobby
	// GET /static/app.js: 200 /static/
	// POST /rooms/42: 405 GET, HEAD
	// GET /nowhere: 404
}
