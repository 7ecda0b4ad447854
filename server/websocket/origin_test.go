package websocket

import (
	"bufio"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// The Origin policy (cross-site WebSocket hijacking, RFC 6455 §10.2) is the same over an
// HTTP/1.1 upgrade and over an HTTP/2 stream (RFC 8441): no Origin (not a browser) is
// let in; by default only the origin whose host is the request's (Host, :authority);
// with AllowedOrigins only those listed, case-insensitively, "*" any; with CheckOrigin
// whatever it says. A refusal is a 403.
func TestOriginPolicy(t *testing.T) {
	listed := Handler{AllowedOrigins: []string{"https://a.example"}}
	anyOrigin := Handler{AllowedOrigins: []string{"*"}}
	checked := Handler{CheckOrigin: func(r *server.Request) bool { return string(r.Get("Origin")) == "https://c.example" }}
	cases := []struct {
		name   string
		h      Handler
		origin string // "" sends none
		want   int
	}{
		{"default, no Origin", Handler{}, "", 200},
		{"default, same origin", Handler{}, "http://localhost", 200},
		{"default, same origin in other case and scheme", Handler{}, "HTTPS://LocalHost", 200},
		{"default, same host on another port", Handler{}, "http://localhost:8080", 403},
		{"default, another origin", Handler{}, "http://evil.example", 403},
		{"default, opaque origin", Handler{}, "null", 403},
		{"listed, no Origin", listed, "", 200},
		{"listed, the listed one", listed, "https://a.example", 200},
		{"listed, the listed one in other case", listed, "HTTPS://A.Example", 200},
		{"listed, same origin but not listed", listed, "http://localhost", 403},
		{"listed, another origin", listed, "https://b.example", 403},
		{"star, another origin", anyOrigin, "http://evil.example", 200},
		{"CheckOrigin says yes", checked, "https://c.example", 200},
		{"CheckOrigin says no", checked, "http://localhost", 403},
	}
	for _, tc := range cases {
		h := tc.h
		h.OnMessage = func(*Conn, Message) {}
		srv := conformanceRoutes(t, h)
		t.Run(tc.name+" over HTTP/1.1", func(t *testing.T) {
			c := servertest.Dial(t, srv.Addr())
			req := "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			if tc.origin != "" {
				req += "Origin: " + tc.origin + "\r\n"
			}
			servertest.Write(t, c, req+"\r\n")
			resp, body := servertest.ReadResponse(t, bufio.NewReader(c), "GET")
			want := tc.want
			if want == 200 {
				want = 101
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, body, want)
			}
		})
		t.Run(tc.name+" over HTTP/2", func(t *testing.T) {
			hc, err := h2ws.Dial(srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer hc.Close()
			var fields []string
			if tc.origin != "" {
				fields = []string{"origin", tc.origin}
			}
			_, resp, err := hc.Connect("/ws", fields...) // :authority localhost
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.want {
				t.Fatalf("status %d %v, want %d", resp.Status, resp.Fields, tc.want)
			}
		})
	}
}
