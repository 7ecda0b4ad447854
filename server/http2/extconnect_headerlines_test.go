package http2

import (
	"bufio"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// sloppyConnect accepts an extended CONNECT as the WebSocket upgrader does, then adds
// header lines an Upgrader could build from untrusted data.
type sloppyConnect struct{ server.ConnectUpgrader }

func (u sloppyConnect) UpgradeConnect(c *server.Conn, r *server.Request, hdr []byte) (server.Protocol, []byte, *server.Rejection) {
	p, hdr, rej := u.ConnectUpgrader.UpgradeConnect(c, r, hdr)
	hdr = append(hdr, "X-Good: 1\r\nX-Split: a\nInjected: yes\r\nX-Nul: a\x00b\r\nBad Name: x\r\n"+
		"Content-Length: 0\r\nConnection: close\r\nUpgrade: foo\r\nKeep-Alive: 5\r\nX-Tab: a\tb\r\n"...)
	return p, hdr, rej
}

// The 200 to an extended CONNECT carries only the upgrader's valid fields: no value with
// a CR, LF or NUL (RFC 9113 §8.2.1), no connection-specific field (§8.2.2) and no
// Content-Length (RFC 9110 §8.6: none on a 2xx to CONNECT).
func TestExtendedConnectAnswerCarriesOnlyValidFields(t *testing.T) {
	ws := websocket.New(websocket.Handler{OnMessage: func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) }})
	s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		s.Upgrade(New(Config{}))
		s.Route("/ws", server.Route{Upgraders: []server.Upgrader{sloppyConnect{ws.(server.ConnectUpgrader)}}})
	})
	c := wsDial(t, s)
	st, resp, err := c.Connect("/ws")
	if err != nil || resp.Status != 200 {
		t.Fatalf("extended CONNECT: %v %v", resp, err)
	}
	got := map[string][]string{}
	for name, values := range resp.Fields {
		if name != "date" && name != "server" && name != ":status" {
			got[name] = values
		}
	}
	want := map[string][]string{"x-good": {"1"}, "x-tab": {"a\tb"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("200 fields %q, want %q", got, want)
	}
	_ = st.SetDeadline(time.Now().Add(20 * time.Second))
	expectEcho(t, st, bufio.NewReader(st), []byte("still a WebSocket"))
}
