package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// runTLS measures a TLS scenario (Scenario.TLS): tls-ws-echo on the load client's loops
// with crypto/tls over in-memory buffers (tlsloop.go), tls-handshake on goroutines (the
// handshake's cryptography outweighs a goroutine's wake-ups there), tls-ws-hold in child
// processes and tls-h2 with h2load. Every client's CPU is reported as in cleartext.
func (sc *Scenario) runTLS(ctx context.Context, e env) (Metrics, error) {
	switch sc.Kind {
	case KindHandshake:
		return RunTLSHandshake(ctx, e.addr, e.pid, *sc.Handshake, e.srcs, e.live)
	case KindEcho:
		p := *sc.Echo
		p.TLS = true
		return RunEcho(ctx, e.addr, e.pid, p, e.srcs, e.live)
	case KindHold:
		p := *sc.Hold
		p.TLS = true
		return RunHold(ctx, e.addr, e.pid, p, e.self, e.childArgs, e.live)
	case KindH2:
		p := *sc.H2
		p.TLS = true
		return RunH2load(ctx, e.addr, e.pid, p)
	}
	return Metrics{}, fmt.Errorf("%s: no TLS version of kind %q", sc.Name, sc.Kind)
}

// RunTLSHandshake measures full TLS handshakes followed by a WebSocket upgrade: Par
// goroutines each dial, complete a TLS 1.3 handshake (benchTLSConfig: no resumption),
// send the upgrade request, read the 101, send a close frame and reset the connection
// (SO_LINGER 0, no close_notify), as ws-handshake does in cleartext. The upgrade is part
// of the operation because it is what every TLS peer serves alike; its cost is small
// beside the handshake's (compare ws-handshake's µs/upgrade). Latency is from dial to
// the 101.
func RunTLSHandshake(ctx context.Context, addr string, pid int, p HandshakeParams, srcs []net.IP, live *Live) (Metrics, error) {
	if p.Par <= 0 {
		p.Par = 32
	}
	if p.Path == "" {
		p.Path = "/echo"
	}
	hs, err := newRawHandshake(addr, p.Path)
	if err != nil {
		return Metrics{}, err
	}
	d := &wsDialer{addr: addr, srcs: srcs, timeout: handshakeTimeout, tls: benchTLSConfig()}
	var (
		tally = opTally{live: live}
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < p.Par; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf [1024]byte
			for ctx.Err() == nil {
				t0 := time.Now()
				err := tlsUpgradeOnce(ctx, d, hs, buf[:])
				tally.done(ctx, time.Since(t0), err)
			}
		}()
	}
	m := tally.measure(ctx, pid, p.Warmup, p.Duration)
	cancel()
	wg.Wait()
	tally.report(&m)
	return m, nil
}

// tlsUpgradeOnce is one TLS handshake and WebSocket upgrade, then a close frame and a reset.
func tlsUpgradeOnce(ctx context.Context, d *wsDialer, hs *rawHandshake, buf []byte) error {
	tc, raw, err := d.tlsDial(ctx)
	if err != nil {
		return err
	}
	defer func() {
		_ = raw.SetLinger(0)
		raw.Close()
	}()
	if _, err := tc.Write(hs.req); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	n := 0
	for {
		if n == len(buf) {
			return errHeadTooLarge
		}
		m, err := tc.Read(buf[n:])
		n += m
		if end := bytes.Index(buf[:n], []byte("\r\n\r\n")); end >= 0 {
			if err := hs.response(buf[:end+4]); err != nil {
				return err
			}
			_, _ = tc.Write(closeFrame)
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
	}
}
