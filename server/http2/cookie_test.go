package http2

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// cookieHandler answers the request's cookie as Get gives it, then the names of its
// header fields in order.
func cookieHandler(w *server.ResponseWriter, r *server.Request) {
	names := make([]string, 0, len(r.Header))
	for _, f := range r.Header {
		names = append(names, string(f.Name))
	}
	_, _ = fmt.Fprintf(w, "%s|%s", r.Get("Cookie"), strings.Join(names, ","))
}

// Cookie fields a client split (RFC 9113 §8.2.3) reach handlers as one field, joined with
// "; " where the first one was: Get and Header see one value, on the loop, on the worker
// pool, through the net/http adapter, and in an extended CONNECT's decision on the worker
// pool. Get returned only the first.
func TestH2CookieFieldsAreJoined(t *testing.T) {
	authorized, gate := make(chan string, 1), make(chan struct{})
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		AuthorizeOffLoop: true,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			<-gate
			authorized <- string(r.Get("cookie"))
			return nil, nil
		},
	}, func(s *server.Server) {
		s.Route("/loop", server.Route{HTTP: cookieHandler})
		s.Route("/pool", server.Route{HTTP: cookieHandler, UseWorkerPool: true})
		s.Route("/nethttp", server.NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprintf(w, "%q", r.Header["Cookie"])
		})))
	})
	cases := []struct {
		name    string
		fields  []string
		want    string // from Get, then the field names
		netHTTP string
	}{
		{"none", []string{"x-a", "1"}, "|x-a", `[]`},
		{"one", []string{"cookie", "a=1; b=2"}, "a=1; b=2|cookie", `["a=1; b=2"]`},
		{"two", []string{"cookie", "a=1", "cookie", "b=2"}, "a=1; b=2|cookie", `["a=1; b=2"]`},
		{"three among others", []string{"x-a", "1", "cookie", "a=1", "x-b", "2", "cookie", "b=2", "cookie", "c=3"},
			"a=1; b=2; c=3|x-a,cookie,x-b", `["a=1; b=2; c=3"]`},
	}
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	cl.write(clientPreface())
	id := uint32(1)
	for _, tc := range cases {
		for _, path := range []string{"/loop", "/pool", "/nethttp"} {
			fields := append([]string{":method", "GET", ":scheme", "http", ":path", path, ":authority", "x"}, tc.fields...)
			cl.write(h2.AppendHeaders(nil, id, cl.headers(fields...), true, 0))
			r := cl.readUntil(id).streams[id]
			want := tc.want
			if path == "/nethttp" {
				want = tc.netHTTP
			}
			if r == nil || r.status != "200" || string(r.body) != want {
				t.Errorf("%s on %s: %+v %q, want 200 %q", tc.name, path, r, r.body, want)
			}
			id += 2
		}
	}

	// The decision reads the request after the loop has served another with split cookies
	// on the same connection, so after their joined value was built.
	ws := wsDial(t, s)
	st, err := ws.Connecting("/ws", "cookie", "s=1", "cookie", "t=2")
	if err != nil {
		t.Fatal(err)
	}
	other, resp, err := ws.Request(true, ":method", "GET", ":scheme", "http", ":path", "/loop", ":authority", "x",
		"cookie", "other=1", "cookie", "other=2")
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET /loop: %v %+v", err, resp)
	}
	_ = other.SetDeadline(time.Now().Add(10 * time.Second)) // only a hang meets it
	if body, _ := io.ReadAll(other); string(body) != "other=1; other=2|cookie" {
		t.Fatalf("GET /loop: %q", body)
	}
	close(gate)
	if got, want := <-authorized, "s=1; t=2"; got != want {
		t.Fatalf("Authorize saw cookie %q, want %q", got, want)
	}
	if resp, err := st.Response(); err != nil || resp.Status != 200 {
		t.Fatalf("extended CONNECT: %v %+v", err, resp)
	}
}
