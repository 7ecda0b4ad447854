package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchyard-dev/switchyard/server"
)

// A worker-pool handler streams server-sent events: each Flush sends what was written so
// far, and waits while the client is behind on reading; it fails once the client has gone,
// which ends the loop.
func ExampleResponseWriter_Flush() {
	srv := server.New(server.Config{Addr: "127.0.0.1:0"})
	srv.Route("/ticks", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/event-stream")
		w.Header("Cache-Control", "no-cache")
		for i := 1; i <= 3; i++ { // a real feed would wait for its next event here
			_, _ = w.WriteString("data: tick " + strconv.Itoa(i) + "\n\n")
			if w.Flush() != nil {
				return // the client went away
			}
		}
	}})
	ctx, stop := context.WithCancel(context.Background())
	done := serveInBackground(ctx, srv)
	resp, err := http.Get("http://" + srv.Addr().String() + "/ticks")
	if err != nil {
		panic(err)
	}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if lines.Text() != "" {
			fmt.Println(lines.Text())
		}
	}
	_ = resp.Body.Close()
	fmt.Println(resp.TransferEncoding)
	stop()
	<-done
	// Output:
	// data: tick 1
	// data: tick 2
	// data: tick 3
	// [chunked]
}
