package bench

import (
	"context"
	"fmt"
	"net"

	"github.com/gobwas/ws"
)

// RunWSPaced measures a WebSocket echo server at addr (process pid) under an open-loop
// load: p.Conns connections on /echo, p.Size-byte binary messages at p.Rate a second in
// all (see PacedParams).
func RunWSPaced(ctx context.Context, addr string, pid int, p PacedParams, srcs []net.IP, live *Live) (Metrics, error) {
	p.defaults()
	frame, err := clientFrame(ws.OpBinary, payloadFor(p.Size), false)
	if err != nil {
		return Metrics{}, err
	}
	lc, err := newLoadClientSpins(p.Loops, 0)
	if err != nil {
		return Metrics{}, err
	}
	defer lc.stop()
	r := &pacedRun{lc: lc, live: live}
	onMessage := func(cc *clientConn, now int64, _ bool, got []byte) error {
		if got != nil && len(got) != p.Size {
			return fmt.Errorf("ws-paced: %d bytes came back for %d sent", len(got), p.Size)
		}
		return r.answer(cc.state.(*pacedConn), now)
	}
	lc.connect(ctx, newDialer(addr, "/echo", srcs, false), p.Conns, 64, func(int) *clientConn {
		return &clientConn{onMessage: onMessage, state: &pacedConn{msg: frame}}
	})
	return r.measure(ctx, pid, p, "msgs")
}
