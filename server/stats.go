package server

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol kinds a connection can speak, for the connection gauges.
const (
	kindHTTP1 uint8 = iota
	kindWebSocket
	kindHTTP2
	kindOther
	numKinds
)

var kindNames = [numKinds]string{"http1", "websocket", "http2", "other"}

func kindOf(token string) uint8 {
	switch token {
	case "websocket":
		return kindWebSocket
	case "h2c", "h2":
		return kindHTTP2
	}
	return kindOther
}

// loopStats are one loop's counters. Only that loop writes them, so the atomic adds never
// contend; Stats sums them for readers.
type loopStats struct {
	requests   atomic.Uint64
	open       [numKinds]atomic.Int64
	msgsIn     atomic.Uint64
	msgsOut    atomic.Uint64
	bytesIn    atomic.Uint64
	bytesOut   atomic.Uint64
	dropped    atomic.Uint64
	h2Streams  atomic.Uint64
	handshakes histogram

	mu       sync.Mutex // guards the maps, which grow rarely; readers are scrapes
	outcomes map[Outcome]*atomic.Uint64
	h2Errors map[string]*atomic.Uint64
}

// Outcome is what the server answered to an upgrade or a request it refused: Status 101
// with the protocol, 426 with why, or the status of a rejection or parse error.
type Outcome struct {
	Status int
	Reason string
}

func (ls *loopStats) count(m *map[Outcome]*atomic.Uint64, k Outcome) {
	ls.mu.Lock()
	if *m == nil {
		*m = make(map[Outcome]*atomic.Uint64)
	}
	c := (*m)[k]
	if c == nil {
		c = new(atomic.Uint64)
		(*m)[k] = c
	}
	ls.mu.Unlock()
	c.Add(1)
}

func (ls *loopStats) outcome(status int, reason string) {
	ls.count(&ls.outcomes, Outcome{status, reason})
}

// H2Error counts an HTTP/2 error code sent to a peer (in RST_STREAM or GOAWAY). Loop only.
func (c *Conn) H2Error(code string) {
	ls := &c.loop.stats
	ls.mu.Lock()
	if ls.h2Errors == nil {
		ls.h2Errors = make(map[string]*atomic.Uint64)
	}
	n := ls.h2Errors[code]
	if n == nil {
		n = new(atomic.Uint64)
		ls.h2Errors[code] = n
	}
	ls.mu.Unlock()
	n.Add(1)
}

// histogram counts durations in fixed buckets (upper bounds in handshakeBuckets).
type histogram struct {
	buckets [len(handshakeBuckets) + 1]atomic.Uint64
	sumNs   atomic.Uint64
}

// handshakeBuckets are the upper bounds of the handshake latency histogram.
var handshakeBuckets = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, time.Second,
}

func (h *histogram) observe(d time.Duration) {
	i := sort.Search(len(handshakeBuckets), func(i int) bool { return d <= handshakeBuckets[i] })
	h.buckets[i].Add(1)
	h.sumNs.Add(uint64(d))
}

// Stats is a snapshot of the server's counters since it started.
type Stats struct {
	// Open counts open connections by protocol: "http1", "websocket", "http2", "other".
	Open map[string]int64
	// Requests counts HTTP requests received whole (upgrade requests included), over
	// HTTP/1.1 and HTTP/2; requests that could not be parsed count under Outcomes.
	Requests uint64
	// Outcomes counts upgrade outcomes and refusals: {101, "websocket"}, {426,
	// "no_upgrade_header"}, {400, "websocket_key"}, {431, "malformed_request"} ...
	Outcomes map[Outcome]uint64
	// WebSocket messages and payload bytes received and sent, and data messages dropped
	// by the send budget's policy.
	MessagesIn, MessagesOut, BytesIn, BytesOut, Dropped uint64
	// H2Streams counts HTTP/2 streams opened by clients; H2Errors the error codes sent.
	H2Streams uint64
	H2Errors  map[string]uint64
	// Handshake latency of successful upgrades to the 101: from the first read of a request
	// head that spans reads, else from the parse of one that arrived whole.
	HandshakeBuckets []time.Duration // upper bounds; the last count is for larger ones
	HandshakeCounts  []uint64
	HandshakeSum     time.Duration
}

// Stats returns the server's counters. Safe from any goroutine.
func (s *Server) Stats() Stats {
	st := Stats{
		Open: make(map[string]int64), Outcomes: make(map[Outcome]uint64), H2Errors: make(map[string]uint64),
		HandshakeBuckets: handshakeBuckets[:],
		HandshakeCounts:  make([]uint64, len(handshakeBuckets)+1),
	}
	for _, name := range kindNames {
		st.Open[name] = 0
	}
	for _, l := range s.loopList() {
		ls := &l.stats
		for k := range ls.open {
			st.Open[kindNames[k]] += ls.open[k].Load()
		}
		st.Requests += ls.requests.Load()
		st.MessagesIn += ls.msgsIn.Load()
		st.MessagesOut += ls.msgsOut.Load()
		st.BytesIn += ls.bytesIn.Load()
		st.BytesOut += ls.bytesOut.Load()
		st.Dropped += ls.dropped.Load()
		st.H2Streams += ls.h2Streams.Load()
		for i := range ls.handshakes.buckets {
			st.HandshakeCounts[i] += ls.handshakes.buckets[i].Load()
		}
		st.HandshakeSum += time.Duration(ls.handshakes.sumNs.Load())
		ls.mu.Lock()
		for k, v := range ls.outcomes {
			st.Outcomes[k] += v.Load()
		}
		for k, v := range ls.h2Errors {
			st.H2Errors[k] += v.Load()
		}
		ls.mu.Unlock()
	}
	return st
}
