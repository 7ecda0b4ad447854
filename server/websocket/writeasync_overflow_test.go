package websocket

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

// WriteAsync past the send budget (the peer reads nothing) follows the route's overflow
// policy: the message is dropped (ErrDropped) and the connection either stays open and
// takes messages again once the peer has read, or is closed with 1013 or 1008 after what
// was already queued.
func TestWriteAsyncOverflowPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy OverflowPolicy
		code   StatusCode // 0: stays open
	}{
		{"drop", DropMessages, 0},
		{"close 1013", CloseTryAgainLater, StatusTryAgainLater},
		{"close 1008", ClosePolicyViolation, StatusPolicyViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opened := make(chan *Conn, 1)
			srv := serveWS(t, server.Config{}, Handler{SendBudget: 64 << 10, Overflow: tc.policy, OnOpen: func(c *Conn) { opened <- c }})
			_, br := upgrade(t, srv, "", nil)
			c := <-opened
			payload := make([]byte, 16<<10)
			var err error
			for i := 0; i < 10000 && err == nil; i++ {
				err = c.WriteAsync(OpBinary, payload)
			}
			if err != ErrDropped {
				t.Fatalf("WriteAsync past the budget: %v, want ErrDropped", err)
			}
			if c.Dropped() == 0 {
				t.Fatal("no message counted as dropped")
			}
			if tc.code == 0 {
				// Read what was sent, then a message written once there is room again.
				after := []byte("after the drop")
				go func() {
					for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
						if c.WriteAsync(OpText, after) == nil {
							return
						}
					}
				}()
				for {
					op, p := readFrame(t, br)
					if op == ws.OpClose {
						t.Fatal("closed under DropMessages")
					}
					if op == ws.OpText && string(p) == string(after) {
						return
					}
				}
			}
			for { // what was queued before the close, then the close frame
				op, p := readFrame(t, br)
				if op == ws.OpClose {
					if len(p) < 2 || StatusCode(binary.BigEndian.Uint16(p)) != tc.code {
						t.Fatalf("closed with %x, want %d", p, tc.code)
					}
					return
				}
			}
		})
	}
}
