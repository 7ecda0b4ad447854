package hostile

import (
	"bytes"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// siege is a server under attack and the well-behaved client that shares its only event
// loop: a keep-alive HTTP/1.1 connection and a WebSocket connection to /echo.
type siege struct {
	t    *testing.T
	srv  *server
	h1   *h1Client
	echo *wsClient
	n    int   // exchanges so far, to number the echoed messages
	base int64 // RSS after the warm-up
}

// besiege opens the well-behaved client, warms the server up (the well-behaved exchanges,
// then warm when not nil) and takes the RSS baseline.
func besiege(t *testing.T, srv *server, warm func()) *siege {
	t.Helper()
	s := &siege{t: t, srv: srv, h1: newH1Client(t, srv.addr), echo: dialWS(t, srv.addr, "/echo", "")}
	for range 50 {
		if _, _, err := s.exchange(); err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	}
	if warm != nil {
		warm()
	}
	time.Sleep(200 * time.Millisecond)
	var readings []int64
	for range 3 {
		v, err := srv.rss()
		if err != nil {
			t.Fatal(err)
		}
		readings = append(readings, v)
		time.Sleep(100 * time.Millisecond)
	}
	slices.Sort(readings)
	s.base = readings[1]
	return s
}

// exchange is one round of the well-behaved client: GET / must be answered 200, and a
// text message sent to /echo must come back intact.
func (s *siege) exchange() (get, echo time.Duration, err error) {
	s.n++
	start := time.Now()
	status, body, err := s.h1.get("/")
	if err != nil {
		return 0, 0, fmt.Errorf("GET /: %w", err)
	}
	if status != 200 {
		return 0, 0, fmt.Errorf("GET / answered %d %q", status, body)
	}
	get = time.Since(start)
	msg := fmt.Appendf(nil, "well-behaved message %d", s.n)
	start = time.Now()
	if err := s.echo.send(ws.OpText, 0, msg); err != nil {
		return get, 0, fmt.Errorf("WebSocket send: %w", err)
	}
	for {
		f, err := s.echo.readFrame(false)
		if err != nil {
			return get, 0, fmt.Errorf("WebSocket echo: %w", err)
		}
		if f.op == ws.OpPing {
			if err := s.echo.send(ws.OpPong, 0, f.payload); err != nil {
				return get, 0, fmt.Errorf("WebSocket pong: %w", err)
			}
			continue
		}
		if f.op != ws.OpText || !bytes.Equal(f.payload, msg) {
			return get, 0, fmt.Errorf("WebSocket echo: got opcode %v %q, want text %q", f.op, f.payload, msg)
		}
		return get, time.Since(start), nil
	}
}

// report is what a siege measured.
type report struct {
	base, peak, after int64 // RSS in bytes
	gets, echoes      []time.Duration
	cpu               time.Duration // the server's CPU time from the attack's start to the end of settling
	err               error         // the well-behaved client's first failure
}

func (r report) growth() int64 { return r.peak - r.base }

// during runs attack while the well-behaved client keeps exchanging on the same loop and
// the server's RSS is sampled every 10 ms. Once attack returns (its connections still
// open), the client makes one more exchange, and the RSS is followed until it has stopped
// rising: the server may still be working through what it took in.
func (s *siege) during(attack func()) report {
	rep := report{base: s.base}
	cpu0 := s.srv.cpu()
	var peak atomic.Int64
	peak.Store(s.base)
	sample := func() int64 {
		v, err := s.srv.rss()
		if err != nil {
			return 0
		}
		for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
		}
		return v
	}
	stopSampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	stopExchanging, exchanged := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exchanged)
		for {
			select {
			case <-stopExchanging:
				return
			default:
			}
			get, echo, err := s.exchange()
			if err != nil {
				rep.err = err
				return
			}
			rep.gets, rep.echoes = append(rep.gets, get), append(rep.echoes, echo)
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// Should attack end the test (t.Fatal), the two goroutines stop with it.
	attacked := false
	defer func() {
		if !attacked {
			close(stopExchanging)
			close(stopSampling)
		}
	}()
	attack()
	attacked = true

	close(stopExchanging)
	<-exchanged
	if rep.err == nil {
		get, echo, err := s.exchange()
		rep.err = err
		if err == nil {
			rep.gets, rep.echoes = append(rep.gets, get), append(rep.echoes, echo)
		}
	}
	// Settle: until the peak has not risen for half a second (at most 10 s).
	last, still := peak.Load(), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && time.Since(still) < 500*time.Millisecond; {
		time.Sleep(50 * time.Millisecond)
		rep.after = sample()
		if p := peak.Load(); p > last {
			last, still = p, time.Now()
		}
	}
	close(stopSampling)
	<-sampled
	rep.peak = peak.Load()
	rep.cpu = s.srv.cpu() - cpu0
	return rep
}

// check logs the figures and asserts the bound on RSS growth (none when limit is 0) and
// that the well-behaved client was served throughout.
func (r report) check(t *testing.T, what string, limit int64) {
	t.Helper()
	t.Logf("%s: RSS baseline %.1f MiB, peak %.1f MiB (growth %.1f MiB), after settling %.1f MiB; server CPU %v",
		what, mib(r.base), mib(r.peak), mib(r.growth()), mib(r.after), r.cpu)
	t.Logf("well-behaved client on the same loop: %d exchanges answered; GET / latency median %v, max %v; echo latency median %v, max %v",
		len(r.gets), median(r.gets), slices.Max(append(r.gets, 0)), median(r.echoes), slices.Max(append(r.echoes, 0)))
	if r.err != nil {
		t.Errorf("%s: the well-behaved client on the same loop was not served: %v", what, r.err)
	}
	if limit > 0 && r.growth() > limit {
		t.Errorf("%s: the server's RSS grew by %.1f MiB, over the bound of %.0f MiB", what, mib(r.growth()), mib(limit))
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}
