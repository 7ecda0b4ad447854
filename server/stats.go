package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// kindHTTP1 is the gauge index of HTTP/1.1, which every connection speaks first; the
// server adds one per upgrader token (Server.kindIndex).
const kindHTTP1 uint8 = 0

type atomicInt64 = atomic.Int64

// Counters are one loop's counters that protocols add to, through Conn.Counters. Only the
// loop writes them, so the atomic adds never contend; Stats sums them for readers.
type Counters struct {
	// Requests counts HTTP requests received whole, whichever protocol carried them.
	Requests atomic.Uint64
	// Messages and payload bytes received and sent by message protocols (WebSocket), and
	// data messages dropped by a send budget's policy.
	MessagesIn, MessagesOut, BytesIn, BytesOut, Dropped atomic.Uint64
	// Streams counts streams opened by clients of multiplexing protocols (HTTP/2).
	Streams atomic.Uint64
}

// loopStats are one loop's counters.
type loopStats struct {
	Counters
	open       []atomicInt64 // by Server.kinds
	childOpen  []atomicInt64 // connections carried on streams (child.go), by Server.kinds
	paused     atomic.Uint64
	yields     atomic.Uint64
	handshakes histogram
	requests   requestStats // requeststats.go

	mu       sync.Mutex // guards the maps, which grow rarely; readers are scrapes
	outcomes map[Outcome]*atomic.Uint64
	errors   map[string]*atomic.Uint64
}

// Outcome is what the server answered to an upgrade or a request it refused: Status 101
// with the protocol, 426 with why, or the status of a rejection or parse error.
type Outcome struct {
	Status int
	Reason string
}

func count[K comparable](mu *sync.Mutex, m *map[K]*atomic.Uint64, k K) {
	mu.Lock()
	if *m == nil {
		*m = make(map[K]*atomic.Uint64)
	}
	c := (*m)[k]
	if c == nil {
		c = new(atomic.Uint64)
		(*m)[k] = c
	}
	mu.Unlock()
	c.Add(1)
}

func (ls *loopStats) outcome(status int, reason string) {
	count(&ls.mu, &ls.outcomes, Outcome{status, reason})
}

// Counters are the counters of the connection's loop. Loop only.
func (c *Conn) Counters() *Counters { return &c.loop.stats.Counters }

// CountError counts a protocol error sent to a peer, by its name (an HTTP/2 error code
// in RST_STREAM or GOAWAY, say). Loop only.
func (c *Conn) CountError(code string) { count(&c.loop.stats.mu, &c.loop.stats.errors, code) }

// histogram counts durations in fixed buckets (upper bounds in handshakeBuckets), for
// handshakes and requests.
type histogram struct {
	buckets [len(handshakeBuckets) + 1]atomic.Uint64
	sumNs   atomic.Uint64
}

// handshakeBuckets are the upper bounds of the latency histograms: handshakes and requests.
var handshakeBuckets = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, time.Second,
}

func (h *histogram) observe(d time.Duration) {
	// A linear scan: most requests fall in the first buckets, where it ends at once
	// (sort.Search's closure calls cost about 10 ns a request).
	i := 0
	for i < len(handshakeBuckets) && d > handshakeBuckets[i] {
		i++
	}
	h.buckets[i].Add(1)
	h.sumNs.Add(uint64(d))
}

// Stats is a snapshot of the server's counters since it started.
type Stats struct {
	// Open counts open connections by protocol: "http1", then each upgrader's token
	// ("websocket", "h2c"); with TLS, "tls" for those still in their handshake and "h2"
	// for HTTP/2 that ALPN chose (h2c is HTTP/2 in cleartext, RFC 9113 §3.1).
	Open map[string]int64
	// OpenOnStreams counts open connections carried on streams of another connection
	// rather than on sockets of their own, by protocol: "websocket" for WebSockets over
	// HTTP/2 (RFC 8441). Open["websocket"] counts those upgraded from HTTP/1.1.
	OpenOnStreams map[string]int64
	// Requests counts HTTP requests received whole (upgrade requests included), over
	// HTTP/1.1 and HTTP/2; requests that could not be parsed count under Outcomes.
	Requests uint64
	// Outcomes counts upgrade outcomes and refusals: {101, "websocket"}, {426,
	// "no_upgrade_header"}, {400, "websocket_key"}, {431, "malformed_request"} ...;
	// {200, "websocket"} for a WebSocket opened by extended CONNECT over HTTP/2.
	Outcomes map[Outcome]uint64
	// WebSocket messages and payload bytes received and sent, and data messages dropped
	// by the send budget's policy.
	MessagesIn, MessagesOut, BytesIn, BytesOut, Dropped uint64
	// Streams counts HTTP/2 streams opened by clients; Errors the protocol error codes
	// sent (HTTP/2's in RST_STREAM and GOAWAY).
	Streams uint64
	Errors  map[string]uint64
	// Paused counts the times a connection's reading, or a handler streaming its response
	// (ResponseWriter.Flush), was paused because its peer did not read what it was sent
	// (Config.SendBudget, or an HTTP/2 window); Yields the turns a protocol ended early
	// to let the loop's other connections run (a WebSocket inflation budget).
	Paused, Yields uint64
	// Handshake latency of successful upgrades to the 101: from the first read of a request
	// head that spans reads, else from the parse of one that arrived whole.
	HandshakeBuckets []time.Duration // upper bounds; the last count is for larger ones
	HandshakeCounts  []uint64
	HandshakeSum     time.Duration
	// Responses counts the responses queued for HTTP requests, at the points where the
	// access log writes its lines, by protocol ("HTTP/1.1", HTTP/1.0 included, and
	// "HTTP/2.0") and status class, indexed by status/100: Responses["HTTP/1.1"][2]
	// counts 2xx, and [0] is unused. 1xx counts only 101 Switching Protocols, which
	// ends a request's HTTP exchange (interim responses such as 100 Continue are not
	// counted); refusals of requests that could not be parsed count too.
	Responses map[string][6]uint64
	// Request durations by protocol, as Responses: from the request's beginning (over
	// HTTP/1.1 its first bytes served, as nginx's $request_time; over HTTP/2 the read
	// that completed its head) to its response queued for the socket, by the monotonic
	// clock. The readings are ones the server takes anyway (a deadline's, the Date
	// field's), so timing costs no clock read of its own. A response with no request
	// begun (a refused h2c upgrade's stream, say) is counted but not timed, so each
	// protocol's counts sum to at most its Responses.
	RequestBuckets []time.Duration // upper bounds, as HandshakeBuckets
	RequestCounts  map[string][]uint64
	RequestSum     map[string]time.Duration
}

// Stats returns the server's counters. Safe from any goroutine.
func (s *Server) Stats() Stats {
	st := Stats{
		Open: make(map[string]int64), OpenOnStreams: make(map[string]int64), Outcomes: make(map[Outcome]uint64), Errors: make(map[string]uint64),
		HandshakeBuckets: handshakeBuckets[:],
		HandshakeCounts:  make([]uint64, len(handshakeBuckets)+1),
	}
	st.initRequests()
	for _, name := range s.kinds {
		st.Open[name] = 0
	}
	for _, l := range s.loopList() {
		ls := &l.stats
		for k := range ls.open {
			st.Open[s.kinds[k]] += ls.open[k].Load()
		}
		for k := range ls.childOpen {
			if n := ls.childOpen[k].Load(); n != 0 {
				st.OpenOnStreams[s.kinds[k]] += n
			}
		}
		st.Requests += ls.Requests.Load()
		st.MessagesIn += ls.MessagesIn.Load()
		st.MessagesOut += ls.MessagesOut.Load()
		st.BytesIn += ls.BytesIn.Load()
		st.BytesOut += ls.BytesOut.Load()
		st.Dropped += ls.Dropped.Load()
		st.Streams += ls.Streams.Load()
		st.Paused += ls.paused.Load()
		st.Yields += ls.yields.Load()
		for i := range ls.handshakes.buckets {
			st.HandshakeCounts[i] += ls.handshakes.buckets[i].Load()
		}
		st.HandshakeSum += time.Duration(ls.handshakes.sumNs.Load())
		ls.requests.addTo(&st)
		ls.mu.Lock()
		for k, v := range ls.outcomes {
			st.Outcomes[k] += v.Load()
		}
		for k, v := range ls.errors {
			st.Errors[k] += v.Load()
		}
		ls.mu.Unlock()
	}
	return st
}
