package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/switchyard-dev/switchyard/server/topics/natstopics/natstest"
)

// startNode runs the example's server on a free port until the test ends.
func startNode(t *testing.T, natsURL string) string {
	t.Helper()
	srv, err := newServer("127.0.0.1:0", natsURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv.Addr().String()
}

func join(t *testing.T, addr, session string) net.Conn {
	t.Helper()
	d := gws.Dialer{Header: gws.HandshakeHeaderHTTP(http.Header{"Cookie": {"session=" + session}})}
	c, _, _, err := d.Dial(context.Background(), "ws://"+addr+"/rooms/42")
	if err != nil {
		t.Fatalf("%s could not join: %v", session, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type chat struct{ From, Text string }

// next reads c's next chat message whose text does not start with skip.
func next(t *testing.T, c net.Conn, skip string) chat {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang fails the test
	for {
		b, err := wsutil.ReadServerText(c)
		if err != nil {
			t.Fatalf("reading the room: %v", err)
		}
		var m chat
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not JSON: %q", b)
		}
		if skip == "" || !strings.HasPrefix(m.Text, skip) {
			return m
		}
	}
}

// The example as a user meets it: refused without a session (401, a JSON reason), a
// message reaches the rest of the room but not its sender, and the room's endpoint counts
// its members; on one node, and on two nodes joined by a real nats-server.
func TestChatRoom(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes func(t *testing.T) (annAddr, bobAddr string)
	}{
		{"one node", func(t *testing.T) (string, string) { a := startNode(t, ""); return a, a }},
		{"two nodes over NATS", func(t *testing.T) (string, string) {
			nats := natstest.Start(t)
			return startNode(t, nats.URL()), startNode(t, nats.URL())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			annAddr, bobAddr := tc.nodes(t)
			resp, err := http.Get("http://" + annAddr + "/rooms/42")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"members":0`) {
				t.Fatalf("the empty room's endpoint: %d %s", resp.StatusCode, body)
			}
			_, _, _, err = gws.Dial(context.Background(), "ws://"+annAddr+"/rooms/42")
			if se, ok := err.(gws.StatusError); !ok || int(se) != 401 {
				t.Fatalf("joining without a session: %v, want 401", err)
			}

			ann, bob := join(t, annAddr, "ann-session"), join(t, bobAddr, "bob-session")
			// Until bob's node has told NATS it wants the room, its messages may be lost:
			// bob says "ready" until ann hears him.
			heard := make(chan struct{})
			go func() {
				for {
					select {
					case <-heard:
						return
					case <-time.After(50 * time.Millisecond):
						_ = wsutil.WriteClientText(bob, []byte("ready"))
					}
				}
			}()
			first := next(t, ann, "")
			close(heard)
			if first.From != "bob" || first.Text != "ready" {
				t.Fatalf("ann got %+v", first)
			}
			_ = wsutil.WriteClientText(bob, []byte("hi, ann"))
			if m := next(t, ann, "ready"); m != (chat{"bob", "hi, ann"}) {
				t.Fatalf("ann got %+v, want bob's hi", m)
			}
			_ = wsutil.WriteClientText(ann, []byte("hi, bob"))
			if m := next(t, bob, ""); m != (chat{"ann", "hi, bob"}) {
				t.Fatalf("bob's first message is %+v: want ann's, none of his own", m)
			}
			if tc.name == "one node" {
				resp, err := http.Get("http://" + annAddr + "/rooms/42")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(body), `"members":2`) {
					t.Fatalf("the room's endpoint with two members: %s", body)
				}
			}
		})
	}
}
