package bench

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Scenario kinds.
const (
	KindEcho      = "ws-echo"
	KindHandshake = "ws-handshake"
	KindHold      = "ws-hold"
	KindBroadcast = "ws-broadcast"
	KindH1        = "h1"
	KindH2        = "h2"
	// Issue 15: the same servers under loads that do not saturate them.
	KindWSPaced = "ws-paced"
	KindWSIdle  = "ws-idle"
	KindH1Paced = "h1-paced"
	KindH2Paced = "h2-paced"
	// Issue 18: a broadcast spanning two nodes joined by NATS (broadcast2nodes.go).
	KindBroadcast2Nodes = "ws-broadcast-2nodes"
)

// holdSettle is how long a ws-hold run waits after the last upgrade before it reads the
// server's RSS: long enough for what servers do once a burst of connections is over
// (Go's background scavenger; switchyard serve's return of the spare heap a second or
// two after the last new connection, server.Config.ReturnMemory) to count, for every
// server alike. It was 700 ms.
const holdSettle = 2500 * time.Millisecond

// Scenario is one comparison: a kind, its parameters, and the servers that take part.
// Exactly one of the parameter fields matching Kind is set.
type Scenario struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Servers []string `json:"servers"`
	// Extra are servers that run only when -servers names them: experiments beside the
	// peers (uringExperiments), kept out of the suite's time.
	Extra     []string         `json:"extra,omitempty"`
	Echo      *EchoParams      `json:"echo,omitempty"`
	Handshake *HandshakeParams `json:"handshake,omitempty"`
	Hold      *HoldParams      `json:"hold,omitempty"`
	Broadcast *BroadcastParams `json:"broadcast,omitempty"`
	Wrk       *WrkParams       `json:"wrk,omitempty"`
	H2        *H2Params        `json:"h2,omitempty"`
	Paced     *PacedParams     `json:"paced,omitempty"` // ws-paced, h1-paced, h2-paced
	Idle      *IdleParams      `json:"idle,omitempty"`
	Nodes     *TwoNodeParams   `json:"nodes,omitempty"` // ws-broadcast-2nodes
	WSH2      *WSH2Params      `json:"ws_h2,omitempty"` // ws-over-h2, ws-h2-open (RFC 8441)
	// Rounds, when set, caps the suite's rounds for this scenario: ws-idle, the TLS hold
	// and the two-node broadcasts run once per server (steady figures, or long runs).
	Rounds int `json:"rounds,omitempty"`
	// TLS runs the kind over TLS (issue 16): every server listens with the suite's
	// certificate (Bins.TLS) and the clients are Go crypto/tls ones (tlsload.go).
	TLS bool `json:"tls,omitempty"`
}

// KindName is the kind as -scenarios selects it: "tls-" + Kind for a TLS scenario, so
// that `-scenarios ws-echo` keeps meaning the cleartext ones.
func (sc *Scenario) KindName() string {
	if sc.TLS {
		return "tls-" + sc.Kind
	}
	return sc.Kind
}

// IsPaced reports whether the scenario is an open-loop one, whose rate is set in advance.
func (sc *Scenario) IsPaced() bool { return sc.Paced != nil }

// The servers of each kind. The HTTP/1.1-only peers have no WebSocket; gobwas and the
// gnet example have no compression.
var (
	wsServers      = []string{"switchyard", "gnet", "gws", "gobwas", "gorilla", "nbio"}
	deflateServers = []string{"switchyard", "gws", "gorilla", "nbio"}
	h1Servers      = []string{"switchyard", "fasthttp", "nethttp"}
	h2Servers      = []string{"switchyard", "h2c", "nghttpd"}
	// The event-loop WebSocket servers: the paced and idle scenarios are about wake-ups
	// and timers, which goroutine-per-connection servers leave to the Go runtime.
	// gnet-lean (echo only) is gnet + gobwas/ws written for speed, beside gnet's example.
	pacedWSServers = []string{"switchyard", "gnet", "gnet-lean", "gws", "nbio"}
	// Issue 16's TLS peers: gws and nbio with their own TLS, gorilla on net/http's; for
	// h2 over TLS nghttpd. (The peer's nethttp also serves HTTP/2 over TLS, for runs by
	// hand: in the suite it took 5-10 s a run, which the suite's budget has no room for.)
	tlsWSServers = []string{"switchyard", "gws", "nbio", "gorilla"}
	tlsH2Servers = []string{"switchyard", "nghttpd"}
	// Issue 15's io_uring experiments (bench/peers: uringlean.go), run only when named:
	// gnet-lean's echo with every system call of a message in the ring (uring-lean), with
	// only the sends and the epoll wait there (uring-hybrid), with only a multishot recv
	// there (uring-recv).
	uringExperiments = []string{"uring-lean", "uring-hybrid", "uring-recv"}
)

// DefaultSuite is what `make bench` runs: issue 5's comparisons, sized so that three
// alternating rounds of them finish in under ten minutes on two cores, then issue 15's
// paced and idle scenarios (pacedSuite).
func DefaultSuite() []Scenario {
	const d, warm = 2 * time.Second, 300 * time.Millisecond
	suite := []Scenario{
		{Name: "ws-echo-64B-c1000", Kind: KindEcho, Servers: wsServers, Extra: uringExperiments,
			Echo: &EchoParams{Conns: 1000, InFlight: 1, Size: 64, Duration: d, Warmup: warm}},
		{Name: "ws-echo-64B-c10000", Kind: KindEcho, Servers: wsServers, Extra: uringExperiments,
			Echo: &EchoParams{Conns: 10000, InFlight: 1, Size: 64, Duration: d, Warmup: warm}},
		{Name: "ws-echo-1KiB-c100-deflate", Kind: KindEcho, Servers: deflateServers,
			Echo: &EchoParams{Conns: 100, InFlight: 4, Size: 1024, Duration: 1500 * time.Millisecond, Warmup: warm, Deflate: true}},
		{Name: "ws-handshake", Kind: KindHandshake, Servers: wsServers,
			Handshake: &HandshakeParams{Par: 32, Duration: d, Warmup: warm}},
		// The WebSocket issue's figure: idle memory at 10,000 connections next to gws and nbio.
		{Name: "ws-hold-10000", Kind: KindHold, Servers: []string{"switchyard", "gws", "nbio"},
			Hold: &HoldParams{Conns: 10000, PerChild: 5000, Settle: holdSettle}},
		{Name: "ws-hold-19000", Kind: KindHold, Servers: wsServers,
			Hold: &HoldParams{Conns: 19000, PerChild: 9500, Settle: holdSettle}},
		{Name: "ws-broadcast-c1000", Kind: KindBroadcast, Servers: wsServers,
			Broadcast: &BroadcastParams{Subs: 1000, Size: 64, Window: 4, Duration: d, Warmup: warm}},
		{Name: "h1-get", Kind: KindH1, Servers: h1Servers,
			Wrk: &WrkParams{Threads: 1, Conns: 100, Duration: 5 * time.Second}},
		{Name: "h2-get", Kind: KindH2, Servers: h2Servers,
			H2: &H2Params{Requests: 200000, Conns: 100, Streams: 10}},
	}
	suite = append(suite, tlsSuite()...)
	suite = append(suite, twoNodeSuite()...)
	suite = append(suite, rfc8441Suite()...)
	return append(suite, pacedSuite()...)
}

// tlsSuite is issue 16's TLS scenarios, about two minutes on two cores: handshakes
// (full TLS 1.3 handshake, ECDSA P-256 certificate, X25519, then the WebSocket upgrade:
// what every peer serves alike), echo at 1,000 connections, idle memory per upgraded
// TLS connection at 10,000 (one round: each run makes 10,000 full handshakes), and
// h2load over https. Windows are shorter than the cleartext ones': connecting 1,000 TLS
// clients takes a second or so before each echo run.
func tlsSuite() []Scenario {
	const d, warm = 1500 * time.Millisecond, 300 * time.Millisecond
	return []Scenario{
		{Name: "tls-handshake", Kind: KindHandshake, TLS: true, Servers: tlsWSServers,
			Handshake: &HandshakeParams{Par: 32, Duration: d, Warmup: warm}},
		{Name: "tls-ws-echo-64B-c1000", Kind: KindEcho, TLS: true, Servers: tlsWSServers,
			Echo: &EchoParams{Conns: 1000, InFlight: 1, Size: 64, Duration: d, Warmup: warm}},
		{Name: "tls-ws-hold-10000", Kind: KindHold, TLS: true, Servers: tlsWSServers, Rounds: 1,
			Hold: &HoldParams{Conns: 10000, PerChild: 5000, Settle: holdSettle}},
		{Name: "tls-h2-get", Kind: KindH2, TLS: true, Servers: tlsH2Servers,
			H2: &H2Params{Requests: 100000, Conns: 100, Streams: 10}},
	}
}

// pacedSuite is issue 15's open-loop and idle scenarios: about 10 minutes on two cores.
// The open-loop ones run the suite's alternating rounds, as the saturated ones do, and the
// report quotes medians: single runs of one build scattered by ±20 % in CPU per message
// (ws-paced-5k 0.86×, 1.02×, 1.28× of the best peer in three suites of one design;
// h2-paced-2k 0.84×, 1.07×, 0.90×). A ws-paced run takes its 5 s window + ~3 s to connect
// 10,000 clients and stop; at 1,000 messages/s a window's p99 is its 50th slowest message.
// The idle one runs once (10 s + ~4 s a server): its figures are near zero and steady.
// ws-paced-half comes after ws-echo-64B-c10000, whose rate it halves.
func pacedSuite() []Scenario {
	ws := func(name string, rate int) Scenario {
		return Scenario{Name: name, Kind: KindWSPaced, Servers: pacedWSServers, Extra: uringExperiments,
			Paced: &PacedParams{Conns: 10000, Rate: rate, Size: 64, Duration: 5 * time.Second, Warmup: 500 * time.Millisecond}}
	}
	half := ws("ws-paced-half", 0)
	half.Paced.RateOf, half.Paced.RateFrac, half.Paced.Fallback = "ws-echo-64B-c10000", 0.5, 60000
	h1 := func(name string, rate int) Scenario {
		return Scenario{Name: name, Kind: KindH1Paced, Servers: h1Servers,
			Paced: &PacedParams{Conns: 1000, Rate: rate, Duration: 2 * time.Second, Warmup: 300 * time.Millisecond}}
	}
	h2 := func(name string, rate int) Scenario {
		return Scenario{Name: name, Kind: KindH2Paced, Servers: h2Servers,
			Paced: &PacedParams{Conns: 100, Rate: rate, Duration: 2 * time.Second}}
	}
	return []Scenario{
		ws("ws-paced-1k", 1000), ws("ws-paced-5k", 5000), ws("ws-paced-30k", 30000), half,
		{Name: "ws-idle-15000", Kind: KindWSIdle, Servers: pacedWSServers, Rounds: 1,
			Idle: &IdleParams{Conns: 15000, PerChild: 7500, Settle: 500 * time.Millisecond, Duration: 10 * time.Second}},
		h1("h1-paced-2k", 2000), h1("h1-paced-20k", 20000),
		h2("h2-paced-2k", 2000), h2("h2-paced-20k", 20000),
	}
}

// QuickSuite is a seconds-long version of every kind, for trying the harness out.
func QuickSuite() []Scenario {
	s := DefaultSuite()
	for i := range s {
		sc := &s[i]
		switch {
		case sc.Echo != nil:
			sc.Echo.Duration, sc.Echo.Warmup = time.Second, 200*time.Millisecond
			sc.Echo.Conns = min(sc.Echo.Conns, 1000)
		case sc.Handshake != nil:
			sc.Handshake.Duration, sc.Handshake.Warmup = time.Second, 200*time.Millisecond
		case sc.Hold != nil:
			sc.Hold.Conns, sc.Hold.Settle = 2000, 300*time.Millisecond
		case sc.Broadcast != nil:
			sc.Broadcast.Duration, sc.Broadcast.Warmup = time.Second, 200*time.Millisecond
		case sc.WSH2 != nil:
			p := *sc.WSH2
			p.Duration, p.Warmup = time.Second, 200*time.Millisecond
			sc.WSH2 = &p
		case sc.Nodes != nil:
			p := *sc.Nodes
			p.Subs, p.Duration, p.Warmup = min(p.Subs, 1000), time.Second, 200*time.Millisecond
			sc.Nodes = &p
		case sc.Wrk != nil:
			sc.Wrk.Duration = time.Second
		case sc.H2 != nil:
			sc.H2.Requests = 20000
		case sc.Paced != nil:
			// A tenth of the connections and of the rates: the schedule and the
			// measurement work end to end in a second per run.
			p := *sc.Paced
			p.Conns, p.Rate, p.Fallback = max(p.Conns/10, 10), p.Rate/10, p.Fallback/10
			p.Duration, p.Warmup = time.Second, min(p.Warmup, 200*time.Millisecond)
			sc.Paced = &p
		case sc.Idle != nil:
			p := *sc.Idle
			p.Conns, p.Settle, p.Duration = 2000, 300*time.Millisecond, 2*time.Second
			sc.Idle = &p
		}
	}
	return s
}

// env is what a scenario needs to reach its server and itself.
type env struct {
	addr      string
	pid       int
	srcs      []net.IP // source addresses for the load client
	self      string   // binary for ws-hold children
	childArgs []string
	live      *Live
}

// run measures sc once against the server described by e.
func (sc *Scenario) run(ctx context.Context, e env) (Metrics, error) {
	if sc.TLS {
		return sc.runTLS(ctx, e)
	}
	switch sc.Kind {
	case KindEcho:
		return RunEcho(ctx, e.addr, e.pid, *sc.Echo, e.srcs, e.live)
	case KindHandshake:
		return RunHandshake(ctx, e.addr, e.pid, *sc.Handshake, e.srcs, e.live)
	case KindHold:
		return RunHold(ctx, e.addr, e.pid, *sc.Hold, e.self, e.childArgs, e.live)
	case KindBroadcast:
		return RunBroadcast(ctx, e.addr, e.pid, *sc.Broadcast, e.srcs, e.live)
	case KindH1:
		return RunWrk(ctx, e.addr, e.pid, *sc.Wrk)
	case KindH2:
		return RunH2load(ctx, e.addr, e.pid, *sc.H2)
	case KindWSPaced:
		return RunWSPaced(ctx, e.addr, e.pid, *sc.Paced, e.srcs, e.live)
	case KindH1Paced:
		return RunH1Paced(ctx, e.addr, e.pid, *sc.Paced, e.srcs, e.live)
	case KindH2Paced:
		return RunH2Paced(ctx, e.addr, e.pid, *sc.Paced)
	case KindWSIdle:
		return RunIdle(ctx, e.addr, e.pid, *sc.Idle, e.self, e.childArgs, e.live)
	case KindWSH2Echo:
		return RunWSH2Echo(ctx, e.addr, e.pid, *sc.WSH2, e.srcs, e.live)
	case KindWSH2Open:
		return RunWSH2Open(ctx, e.addr, e.pid, *sc.WSH2, e.srcs, e.live)
	}
	return Metrics{}, fmt.Errorf("unknown scenario kind %q", sc.Kind)
}

// Unit names what Ops counts in a scenario.
func (sc *Scenario) Unit() string {
	switch sc.Kind {
	case KindEcho, KindWSPaced, KindWSH2Echo:
		return "msgs"
	case KindWSH2Open:
		return "opens"
	case KindHandshake:
		return "upgrades"
	case KindHold, KindWSIdle:
		return "conns"
	case KindBroadcast, KindBroadcast2Nodes:
		return "deliveries"
	}
	return "reqs"
}

// Select keeps the scenarios whose name or kind (KindName) is in names; "tls" keeps
// every TLS scenario.
func Select(suite []Scenario, names []string) []Scenario {
	var out []Scenario
	for _, sc := range suite {
		for _, n := range names {
			if sc.Name == n || sc.KindName() == n || (n == "tls" && sc.TLS) {
				out = append(out, sc)
				break
			}
		}
	}
	for _, n := range names {
		if sc, ok := twoNodesSized(suite, n); ok {
			out = append(out, sc)
		}
	}
	return out
}
