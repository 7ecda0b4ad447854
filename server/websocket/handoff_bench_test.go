package websocket

import (
	"bufio"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// BenchmarkHandedOffReply measures a goroutine of the program's own while the loops are
// busy: OnMessage hands each probe to it over a channel and it answers with WriteAsync.
// Twenty other connections keep the loops at 5,000 messages/s meanwhile, in this process
// like the probe's client. Each op is one probe, 3 ms apart; p99-µs and max-µs are the
// round trips'. Loops that sleep keeping their P (Config.HoldP) leave that goroutine, and
// any goroutine waiting in Go's netpoller, to sysmon's preemption (Config.HoldP).
//
//	go test -run '^$' -bench BenchmarkHandedOffReply -benchtime 300x ./server/websocket/
func BenchmarkHandedOffReply(b *testing.B) {
	for _, tc := range []struct {
		name  string
		holdP bool
	}{{"default", false}, {"hold-p", true}} {
		b.Run(tc.name, func(b *testing.B) { handedOffReply(b, tc.holdP) })
	}
}

func handedOffReply(b *testing.B, holdP bool) {
	probes := make(chan *Conn, 64)
	defer close(probes)
	go func() {
		for w := range probes {
			_ = w.WriteAsync(OpText, []byte("pong"))
		}
	}()
	srv := serveWS(b, server.Config{Loops: 2, HoldP: holdP}, Handler{OnMessage: func(w *Conn, m Message) {
		if string(m.Payload) == "probe" {
			probes <- w
			return
		}
		w.Write(m.Op, m.Payload)
	}})
	stop := make(chan struct{})
	defer close(stop)
	for range 20 {
		c, br := upgrade(b, srv, "", nil)
		go steadyLoad(c, br, 4*time.Millisecond, stop)
	}
	time.Sleep(300 * time.Millisecond) // the loops settle into their steady state
	c, br := upgrade(b, srv, "", nil)
	probe := clientFrame(ws.OpText, true, []byte("probe"))
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		servertest.Write(b, c, string(probe))
		readFrame(b, br)
		rtts = append(rtts, time.Since(start))
		time.Sleep(3 * time.Millisecond)
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(rtts[len(rtts)-1].Microseconds()), "max-µs")
}

// steadyLoad sends a message every period and reads its echo until stop.
func steadyLoad(c net.Conn, br *bufio.Reader, period time.Duration, stop chan struct{}) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	f := clientFrame(ws.OpText, true, []byte("load"))
	echo := make([]byte, 2+len("load")) // an unmasked frame's header and the payload
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if _, err := c.Write(f); err != nil {
			return
		}
		if _, err := io.ReadFull(br, echo); err != nil {
			return
		}
	}
}
