package server

import (
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// handshakers runs TLS handshakes on goroutines kept between handshakes. A server
// handshake grows its goroutine's stack from the runtime's starting size to tens of KiB
// (crypto/tls's key exchange and signature run deep), and a fresh goroutine per handshake
// pays that copying every time: about 3 % of the server's CPU per handshake under a
// handshake flood (perf, bench tls-handshake). A kept goroutine reuses its stack.
//
// At most maxIdle goroutines wait between handshakes, each for at most idleFor, so an
// idle server keeps few stacks and wakes on no tick: the count of goroutines running is
// bounded by the handshakes in flight (Config.MaxTLSHandshakes), as before.
type handshakers struct {
	jobs    chan func() // unbuffered: a send succeeds only when a goroutine waits
	idle    atomic.Int32
	maxIdle int32
	idleFor time.Duration
}

func newHandshakers(maxIdle int, idleFor time.Duration) *handshakers {
	return &handshakers{jobs: make(chan func()), maxIdle: int32(maxIdle), idleFor: idleFor}
}

// run hands fn to a waiting goroutine, or starts one.
func (p *handshakers) run(fn func()) {
	select {
	case p.jobs <- fn:
	default:
		go p.work(fn)
	}
	gnet.NoteHandoff()
}

func (p *handshakers) work(fn func()) {
	var t *time.Timer
	for {
		fn()
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		if t == nil {
			t = time.NewTimer(p.idleFor)
		} else {
			t.Reset(p.idleFor)
		}
		select {
		case fn = <-p.jobs:
			p.idle.Add(-1)
			t.Stop()
		case <-t.C:
			p.idle.Add(-1)
			return
		}
	}
}
