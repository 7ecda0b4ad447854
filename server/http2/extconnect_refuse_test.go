package http2

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/h2ws"
	"github.com/switchyard-dev/switchyard/server/websocket"
	"golang.org/x/net/http2"
)

// Refusals of an extended CONNECT get the status and the explaining body the same
// refusal gets as an HTTP/1.1 upgrade, and leave the connection serving.
func TestExtendedConnectRefusals(t *testing.T) {
	s := wsServer(t, server.Config{}, Config{}, websocket.Handler{
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			if string(r.Get("authorization")) == "no" {
				return nil, &server.Rejection{Status: 401, Header: "WWW-Authenticate: Bearer\r\n", Reason: "log in first"}
			}
			return nil, nil
		},
	}, func(s *server.Server) {
		s.Route("/plain", server.Route{HTTP: okHandler("plain")})
	})
	connect := func(path, protocol string, fields ...string) []string {
		return append([]string{":method", "CONNECT", ":protocol", protocol, ":scheme", "http",
			":path", path, ":authority", "localhost"}, fields...)
	}
	v13 := []string{"sec-websocket-version", "13"}
	for _, tc := range []struct {
		name      string
		fields    []string
		endStream bool
		status    int
		field     [2]string // a field the answer must carry
		body      string    // a part of the body
	}{
		{"RFC 6455 §4.2.2 version missing: 426", connect("/ws", "websocket"), false, 426,
			[2]string{"sec-websocket-version", "13"}, "Sec-WebSocket-Version must be 13"},
		{"RFC 6455 §4.2.2 version 8: 426", connect("/ws", "websocket", "sec-websocket-version", "8"), false, 426,
			[2]string{"sec-websocket-version", "13"}, "Sec-WebSocket-Version must be 13"},
		{"RFC 6455 §4.2.2 two versions: 426", connect("/ws", "websocket", "sec-websocket-version", "13", "sec-websocket-version", "13"), false, 426,
			[2]string{}, "Sec-WebSocket-Version must be 13"},
		{"cross-origin: 403", connect("/ws", "websocket", append(v13, "origin", "http://evil.example")...), false, 403,
			[2]string{}, "Origin is not allowed"},
		{"Authorize's rejection as it is", connect("/ws", "websocket", append(v13, "authorization", "no")...), false, 401,
			[2]string{"www-authenticate", "Bearer"}, "log in first"},
		{"no route: 404", connect("/nowhere", "websocket", v13...), false, 404, [2]string{}, "no route for this path"},
		{"route without WebSocket: 404", connect("/plain", "websocket", v13...), false, 404, [2]string{}, "no endpoint for the requested :protocol"},
		{"unknown :protocol: 404", connect("/ws", "chat-v9", v13...), false, 404, [2]string{}, "no endpoint for the requested :protocol"},
		{"RFC 8441 §4 END_STREAM on the CONNECT: 400", connect("/ws", "websocket", v13...), true, 400, [2]string{}, "END_STREAM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wsDial(t, s)
			st, resp, err := c.Request(tc.endStream, tc.fields...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d (%v)", resp.Status, tc.status, resp.Fields)
			}
			if tc.field[0] != "" && resp.Get(tc.field[0]) != tc.field[1] {
				t.Fatalf("%s: %q, want %q", tc.field[0], resp.Get(tc.field[0]), tc.field[1])
			}
			_ = st.SetDeadline(time.Now().Add(10 * time.Second))
			body, err := io.ReadAll(st)
			if err != nil && !errors.Is(err, h2ws.ErrReset) {
				t.Fatalf("body: %v", err)
			}
			if !strings.Contains(string(body), tc.body) {
				t.Fatalf("body %q, want it to contain %q", body, tc.body)
			}
			// The connection still serves.
			wsConnect(t, c)
		})
	}
}

// Malformed extended CONNECTs are stream errors (RFC 9113 §8.1.1, RFC 8441 §3-§4): the
// stream is reset with PROTOCOL_ERROR, and the connection goes on.
func TestExtendedConnectMalformed(t *testing.T) {
	withWS := wsServer(t, server.Config{}, Config{}, websocket.Handler{}, nil)
	noWS := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		s.Upgrade(New(Config{}))
		s.Route("/ws", server.Route{HTTP: okHandler("no websocket here")})
	})
	full := map[string]string{":method": "CONNECT", ":protocol": "websocket", ":scheme": "http",
		":path": "/ws", ":authority": "localhost", "sec-websocket-version": "13"}
	without := func(drop string, set ...string) []string {
		var out []string
		for _, k := range []string{":method", ":protocol", ":scheme", ":path", ":authority", "sec-websocket-version"} {
			if k != drop {
				v := full[k]
				for i := 0; i+1 < len(set); i += 2 {
					if set[i] == k {
						v = set[i+1]
					}
				}
				out = append(out, k, v)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		srv    *server.Server
		fields []string
	}{
		{"RFC 8441 §3 :protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL", noWS, without("")},
		{"RFC 8441 §4 :path missing", withWS, without(":path")},
		{"RFC 8441 §4 :scheme missing", withWS, without(":scheme")},
		{"RFC 8441 §4 :authority missing", withWS, without(":authority")},
		{"RFC 8441 §4 :protocol on GET", withWS, without("", ":method", "GET")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wsDial(t, tc.srv)
			_, resp, err := c.Request(false, tc.fields...)
			if !errors.Is(err, h2ws.ErrReset) || !strings.Contains(err.Error(), http2.ErrCodeProtocol.String()) {
				t.Fatalf("got %v, %v; want RST_STREAM PROTOCOL_ERROR", resp, err)
			}
			if _, resp, err := c.Request(true, ":method", "GET", ":scheme", "http", ":path", "/ws", ":authority", "x"); err != nil || resp.Status == 0 {
				t.Fatalf("the connection after the stream error: %v %v", resp, err)
			}
		})
	}
}
