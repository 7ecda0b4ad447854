package websocket

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// BenchmarkFullPoolCallbacks measures callbacks that wait for a worker: eight clients on
// two loops echo through OnMessage on a pool of one worker, each sending its next
// message once it has the echo, so most callbacks find the worker busy. An op is one
// echo; p99-µs is the clients' round trips. A waiting callback is taken by the worker
// that frees (workers.go), whichever loop it came from.
//
//	go test -run '^$' -bench BenchmarkFullPoolCallbacks -benchtime 20000x ./server/websocket/
func BenchmarkFullPoolCallbacks(b *testing.B) {
	const clients = 8
	srv := serveWS(b, server.Config{Loops: 2, WorkerPoolSize: 1}, Handler{
		UseWorkerPool: true,
		OnMessage:     func(w *Conn, m Message) { _ = w.Write(m.Op, m.Payload) },
	})
	f := clientFrame(ws.OpText, true, []byte("hello"))
	type client struct {
		rtts []time.Duration
		run  func(n int)
	}
	cs := make([]*client, clients)
	for i := range cs {
		c, br := upgrade(b, srv, "", nil)
		cl := &client{}
		cl.run = func(n int) {
			for range n {
				start := time.Now()
				servertest.Write(b, c, string(f))
				if op, _ := readFrame(b, br); op != ws.OpText {
					b.Errorf("got op %v", op)
					return
				}
				cl.rtts = append(cl.rtts, time.Since(start))
			}
		}
		cs[i] = cl
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, cl := range cs {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		wg.Go(func() { cl.run(n) })
	}
	wg.Wait()
	b.StopTimer()
	var all []time.Duration
	for _, cl := range cs {
		all = append(all, cl.rtts...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}
