package server

import (
	"bufio"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// tickingGoroutines counts the goroutines of ants pools' tickers (clock and purge).
func tickingGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "ants/v2.(*poolCommon).ticktock") +
		strings.Count(string(buf), "ants/v2.(*poolCommon).purgeStaleWorkers")
}

// An idle server keeps no goroutine on a fixed tick: ants' default pool is released, and
// the server's pool starts with the first job that needs it, not with Serve.
func TestWorkerPoolStartsWithItsFirstJob(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/loop", Route{HTTP: okHandler("loop")})
		s.Route("/pool", Route{UseWorkerPool: true, HTTP: okHandler("pool")})
	})
	<-s.Ready() // Serve has made s.pool
	c := dial(t, s)
	br := bufio.NewReader(c)
	ask := func(path string) {
		t.Helper()
		write(t, c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v", path, err)
		} else {
			resp.Body.Close()
		}
	}
	ask("/loop")
	if s.pool.started() || tickingGoroutines() != 0 {
		t.Fatalf("before any pool job: pool started %v, %d ticking goroutines; want none", s.pool.started(), tickingGoroutines())
	}
	ask("/pool")
	if !s.pool.started() || tickingGoroutines() == 0 {
		t.Fatalf("after a pool job: pool started %v, %d ticking goroutines", s.pool.started(), tickingGoroutines())
	}
}

// The pool's bound and queue: with its one worker busy, Submit says full, and so it does
// while queued jobs wait (it would overtake them); queued jobs run in order, each taken
// by the worker that frees, including after a job that panicked; after Release nothing
// more is queued.
func TestWorkerPoolQueue(t *testing.T) {
	w := &workers{size: 1}
	t.Cleanup(w.Release)
	release := make(chan struct{})
	started := make(chan struct{})
	if err := w.Queue(func() { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := w.Submit(func() {}); err != ErrPoolFull {
		t.Fatalf("Submit with the worker busy: %v, want ErrPoolFull", err)
	}
	var order []int
	done := make(chan struct{})
	for i := range 3 {
		if err := w.Queue(func() { order = append(order, i) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Queue(func() { panic("queued job panics") }); err != nil {
		t.Fatal(err)
	}
	if err := w.Queue(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Submit(func() {}); err != ErrPoolFull {
		t.Fatalf("Submit with jobs queued: %v, want ErrPoolFull", err)
	}
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job queued after a panicking one never ran")
	}
	if !slices.Equal(order, []int{0, 1, 2}) {
		t.Fatalf("queued jobs ran as %v, want [0 1 2]", order)
	}
	for deadline := time.Now().Add(10 * time.Second); w.Submit(func() {}) != nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the worker's place never came back after the queue emptied")
		}
	}
	w.Release()
	if err := w.Queue(func() {}); err == nil {
		t.Fatal("Queue after Release succeeded")
	}
}

// Jobs queued before Release still run, taken by the busy worker as it frees, and so
// does a job queued behind one that panics after Release: a protocol's queued job may be
// all that ends its connection (a WebSocket's OnClose).
func TestWorkerPoolReleaseRunsQueuedJobs(t *testing.T) {
	for _, panicking := range []bool{false, true} {
		w := &workers{size: 1}
		release, started := make(chan struct{}), make(chan struct{})
		if err := w.Queue(func() { close(started); <-release }); err != nil {
			t.Fatal(err)
		}
		<-started
		if panicking {
			if err := w.Queue(func() { panic("queued job panics after Release") }); err != nil {
				t.Fatal(err)
			}
		}
		ran := make(chan struct{})
		if err := w.Queue(func() { close(ran) }); err != nil {
			t.Fatal(err)
		}
		w.Release()
		if err := w.Queue(func() {}); err == nil {
			t.Fatal("Queue after Release succeeded")
		}
		close(release)
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatalf("a job queued before Release never ran (a panicking job before it: %v)", panicking)
		}
	}
}

// jobFIFO hands jobs out oldest first across its compaction, and keeps none it handed out.
func TestJobFIFO(t *testing.T) {
	var q jobFIFO
	var got []int
	next := 0
	for round := range 50 {
		for range round%7 + 1 {
			i := next
			q.push(func() { got = append(got, i) })
			next++
		}
		for range round % 5 {
			if q.len() > 0 {
				q.pop()()
			}
		}
	}
	for q.len() > 0 {
		q.pop()()
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("job %d ran as %d-th", v, i)
		}
	}
	if len(got) != next {
		t.Fatalf("%d jobs ran, %d pushed", len(got), next)
	}
	for _, fn := range q.jobs[:cap(q.jobs)] {
		if fn != nil {
			t.Fatal("the queue keeps a job it handed out")
		}
	}
}
