package websocket

import (
	"bufio"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// user is what the tests' Authorize attaches to a connection.
type user struct {
	name, room, remote string
}

// roomHandshake is an opening handshake for /rooms/<room> without its final CRLF.
func roomHandshake(room string) string {
	return "GET /rooms/" + room + "?token=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
}

// authorizeUser admits a request with the cookie "session=<name>" and the query
// "token=t"; it refuses others with the rejection the X-Refuse header names.
func authorizeUser(r *server.Request) (any, *server.Rejection) {
	switch string(r.Get("X-Refuse")) {
	case "401":
		return nil, &server.Rejection{Status: 401, Header: "WWW-Authenticate: Bearer realm=\"chat\"\r\n",
			Reason: `{"error":"login required"}`, ContentType: "application/json"}
	case "302":
		return nil, &server.Rejection{Status: 302, Header: "Location: /login\r\n", Reason: "log in first"}
	case "decline":
		return nil, server.Decline
	case "bad-status":
		return nil, &server.Rejection{Status: 101, Reason: "nonsense"}
	}
	cookie := string(r.Get("Cookie"))
	name, ok := strings.CutPrefix(cookie, "session=")
	if !ok || string(r.Query) != "token=t" {
		return nil, &server.Rejection{Status: 401, Reason: "no session"}
	}
	return &user{name: name, room: string(r.PathValue("id")), remote: r.RemoteAddr().String()}, nil
}

// authServer serves a chat room on /rooms/{id} whose callbacks report the value they see.
func authServer(t *testing.T, offLoop bool, closed chan<- *user) *server.Server {
	h := Handler{
		Authorize:        authorizeUser,
		AuthorizeOffLoop: offLoop,
		Subprotocols:     []string{"chat.v1", "chat.v2"},
		SelectSubprotocol: func(value any, offered []string) string {
			if u, _ := value.(*user); u != nil && u.name == "beta" {
				return offered[len(offered)-1]
			}
			return offered[0]
		},
		OnOpen: func(c *Conn) {
			u, ok := ValueOf[*user](c)
			if !ok {
				_ = c.Write(OpText, []byte("open without a user"))
				return
			}
			if v, _ := c.Value().(*user); v != u {
				_ = c.Write(OpText, []byte("Value is not what ValueOf gives"))
				return
			}
			_ = c.Write(OpText, []byte("open "+u.name+" in "+u.room+" from "+u.remote))
		},
		OnMessage: func(c *Conn, m Message) {
			u, _ := ValueOf[*user](c)
			if u == nil {
				_ = c.Write(OpText, []byte("message without a user"))
				return
			}
			_ = c.Write(OpText, append([]byte(u.name+": "), m.Payload...))
		},
		OnClose: func(c *Conn, code StatusCode, reason string) {
			u, _ := ValueOf[*user](c)
			select { // never block the loop, even once a failed test stopped reading
			case closed <- u:
			default:
			}
		},
	}
	srv, _, _ := runServer(t, server.Config{Loops: 1}, func(s *server.Server) {
		s.Route("GET /rooms/{id}", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
	})
	return srv
}

var authModes = []struct {
	name    string
	offLoop bool
}{{"on the loop", false}, {"on the worker pool", true}}

func TestAuthorizeRefusals(t *testing.T) {
	cases := []struct {
		name, refuse, extra string
		status              int
		header, value, body string
	}{
		{"any status, header and typed body", "401", "", 401, "WWW-Authenticate", `Bearer realm="chat"`, `{"error":"login required"}`},
		{"a redirect", "302", "", 302, "Location", "/login", "log in first\n"},
		{"Decline is a 403", "decline", "", 403, "", "", "WebSocket handshake: not authorized.\n"},
		{"an invalid status is a 403", "bad-status", "", 403, "", "", "WebSocket handshake: not authorized.\n"},
		{"no session cookie", "", "", 401, "", "", "no session\n"},
	}
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			s := authServer(t, mode.offLoop, make(chan *user, 10))
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := servertest.Dial(t, s.Addr())
					br := bufio.NewReader(c)
					refuse := ""
					if tc.refuse != "" {
						refuse = "X-Refuse: " + tc.refuse + "\r\n"
					}
					servertest.Write(t, c, roomHandshake("7")+refuse+tc.extra+"\r\n")
					resp, body := servertest.ReadResponse(t, br, "GET")
					if resp.StatusCode != tc.status || body != tc.body {
						t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
					}
					if tc.header != "" && resp.Header.Get(tc.header) != tc.value {
						t.Fatalf("%s: %q, want %q", tc.header, resp.Header.Get(tc.header), tc.value)
					}
					if tc.refuse == "401" && resp.Header.Get("Content-Type") != "application/json" {
						t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
					}
					// The connection stays usable: the next handshake on it succeeds.
					servertest.Write(t, c, roomHandshake("8")+"Cookie: session=ann\r\n\r\n")
					if resp, _ := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 101 {
						t.Fatalf("handshake after the refusal: %d", resp.StatusCode)
					}
					if _, p := readFrame(t, br); string(p) != "open ann in 8 from "+c.LocalAddr().String() {
						t.Fatalf("OnOpen after the refusal: %q", p)
					}
				})
			}
		})
	}
}

// The value Authorize returns reaches OnOpen, OnMessage and OnClose, and chooses the
// subprotocol; the frames sent with the handshake go to the new protocol after the 101.
func TestAuthorizeValueReachesEveryCallback(t *testing.T) {
	cases := []struct {
		name, user, subprotocol string
	}{
		{"first offered subprotocol", "ann", "chat.v1"},
		{"the value picks the subprotocol", "beta", "chat.v2"},
	}
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			closed := make(chan *user, 1)
			s := authServer(t, mode.offLoop, closed)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := servertest.Dial(t, s.Addr())
					br := bufio.NewReader(c)
					first := clientFrame(ws.OpText, true, []byte("hi"))
					servertest.Write(t, c, roomHandshake("42")+"Cookie: session="+tc.user+"\r\n"+
						"Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n\r\n"+string(first))
					resp, _ := servertest.ReadResponse(t, br, "GET")
					if resp.StatusCode != 101 {
						t.Fatalf("handshake: %d", resp.StatusCode)
					}
					if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.subprotocol {
						t.Fatalf("subprotocol %q, want %q", got, tc.subprotocol)
					}
					if _, p := readFrame(t, br); string(p) != "open "+tc.user+" in 42 from "+c.LocalAddr().String() {
						t.Fatalf("OnOpen: %q", p)
					}
					if _, p := readFrame(t, br); string(p) != tc.user+": hi" {
						t.Fatalf("OnMessage of the frame sent with the handshake: %q", p)
					}
					servertest.Write(t, c, string(clientFrame(ws.OpText, true, []byte("again"))))
					if _, p := readFrame(t, br); string(p) != tc.user+": again" {
						t.Fatalf("OnMessage: %q", p)
					}
					servertest.Write(t, c, string(clientFrame(ws.OpClose, true, ws.AppendClose(nil, 1000, ""))))
					if u := <-closed; u == nil || u.name != tc.user || u.room != "42" {
						t.Fatalf("OnClose saw %+v", u)
					}
				})
			}
		})
	}
}

// An Authorize that waits, run on the worker pool, holds up neither the other connections
// of its loop nor the frames its client sent with the handshake.
func TestAuthorizeOffLoopDoesNotBlockTheLoop(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	h := Handler{
		AuthorizeOffLoop: true,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			if string(r.Get("X-Wait")) == "yes" {
				entered <- struct{}{}
				<-release
			}
			return string(r.PathValue("id")), nil
		},
		OnMessage: func(c *Conn, m Message) {
			room, _ := ValueOf[string](c)
			_ = c.Write(OpText, append([]byte(room+": "), m.Payload...))
		},
	}
	s, _, _ := runServer(t, server.Config{Loops: 1}, func(s *server.Server) {
		s.Route("/rooms/{id}", server.Route{Upgraders: []server.Upgrader{New(h)},
			HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("plain") }})
	})
	slow := servertest.Dial(t, s.Addr())
	slowBR := bufio.NewReader(slow)
	servertest.Write(t, slow, roomHandshake("1")+"X-Wait: yes\r\n\r\n"+string(clientFrame(ws.OpText, true, []byte("early"))))
	<-entered
	// While the slow handshake's Authorize waits, the loop serves another client, plain
	// and WebSocket.
	other := servertest.Dial(t, s.Addr())
	otherBR := bufio.NewReader(other)
	servertest.Write(t, other, "GET /rooms/2 HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := servertest.ReadResponse(t, otherBR, "GET"); body != "plain" {
		t.Fatalf("plain request meanwhile: %q", body)
	}
	servertest.Write(t, other, roomHandshake("2")+"\r\n"+string(clientFrame(ws.OpText, true, []byte("x"))))
	if resp, _ := servertest.ReadResponse(t, otherBR, "GET"); resp.StatusCode != 101 {
		t.Fatalf("handshake meanwhile: %d", resp.StatusCode)
	}
	if _, p := readFrame(t, otherBR); string(p) != "2: x" {
		t.Fatalf("message meanwhile: %q", p)
	}
	close(release)
	if resp, _ := servertest.ReadResponse(t, slowBR, "GET"); resp.StatusCode != 101 {
		t.Fatalf("slow handshake: %d", resp.StatusCode)
	}
	if _, p := readFrame(t, slowBR); string(p) != "1: early" {
		t.Fatalf("the frame sent with the slow handshake: %q", p)
	}
}

// A handshake that finds the worker pool full is answered 503 at once, and the
// connection stays usable.
func TestAuthorizeOffLoopWithAFullPoolIs503(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	h := Handler{
		AuthorizeOffLoop: true,
		Authorize: func(r *server.Request) (any, *server.Rejection) {
			if string(r.Get("X-Wait")) == "yes" {
				entered <- struct{}{}
				<-release
			}
			return nil, nil
		},
	}
	s, _, _ := runServer(t, server.Config{Loops: 1, WorkerPoolSize: 1}, func(s *server.Server) {
		s.Route("/rooms/{id}", server.Route{Upgraders: []server.Upgrader{New(h)}})
	})
	defer close(release)
	busy := servertest.Dial(t, s.Addr())
	servertest.Write(t, busy, roomHandshake("1")+"X-Wait: yes\r\n\r\n")
	<-entered
	c := servertest.Dial(t, s.Addr())
	br := bufio.NewReader(c)
	servertest.Write(t, c, roomHandshake("2")+"\r\n")
	if resp, body := servertest.ReadResponse(t, br, "GET"); resp.StatusCode != 503 {
		t.Fatalf("got %d %q, want 503", resp.StatusCode, body)
	}
}
