package admin

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-dev/switchyard/server"
)

// Collector exports server.Stats as Prometheus metrics. It reads the server's own
// counters at scrape time, so the server's hot paths pay nothing for Prometheus.
type Collector struct {
	srv                                                           *server.Server
	more                                                          []*server.Server // summed with srv
	open, requests, upgrades                                      *prometheus.Desc
	messages, bytes, dropped                                      *prometheus.Desc
	h2Streams, errors, handshakeDuration                          *prometheus.Desc
	paused, yields                                                *prometheus.Desc
	websocketsOpen                                                *prometheus.Desc
	responses, requestDuration                                    *prometheus.Desc
	tlsHandshakes, tlsInFlight, tlsVersions, tlsALPN, tlsDuration *prometheus.Desc
}

// NewCollector returns a collector for srv, and for more servers whose counters it adds
// to srv's.
func NewCollector(srv *server.Server, more ...*server.Server) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("switchyard_"+name, help, labels, nil)
	}
	return &Collector{
		srv:               srv,
		more:              more,
		open:              d("connections_open", "Open connections by protocol.", "protocol"),
		requests:          d("http_requests_total", "HTTP requests answered, over HTTP/1.1 and HTTP/2."),
		upgrades:          d("upgrade_outcomes_total", "Upgrade outcomes and refusals: status 101 with the protocol, 426 and 4xx with the reason.", "status", "reason"),
		messages:          d("websocket_messages_total", "WebSocket messages by direction.", "direction"),
		bytes:             d("websocket_bytes_total", "WebSocket payload bytes by direction.", "direction"),
		dropped:           d("websocket_messages_dropped_total", "WebSocket data messages dropped by the send budget's policy."),
		h2Streams:         d("http2_streams_total", "HTTP/2 streams opened by clients."),
		errors:            d("protocol_errors_total", "Protocol error codes sent to peers (HTTP/2's in RST_STREAM and GOAWAY).", "code"),
		paused:            d("connections_paused_total", "Times a connection's reading, or a handler streaming its response, was paused because its peer did not read what it was sent (send budget, HTTP/2 window)."),
		websocketsOpen:    d("websockets_open", "Open WebSockets by transport: h1 (upgraded HTTP/1.1 connections) and h2 (HTTP/2 streams opened by extended CONNECT, RFC 8441).", "transport"),
		yields:            d("connection_yields_total", "Turns a connection ended early so that its loop's other connections run (WebSocket inflation budget)."),
		handshakeDuration: d("upgrade_handshake_seconds", "Time from an upgrade request (its first read, or its parse when it arrived whole) to the 101."),
		responses:         d("http_responses_total", "Responses to HTTP requests by protocol and status class (1xx: only 101 Switching Protocols; 100 Continue is not counted).", "proto", "code"),
		requestDuration:   d("http_request_duration_seconds", "Time from an HTTP request's beginning (HTTP/1.1: its first bytes; HTTP/2: the read that completed its head) to its response queued for the socket.", "proto"),
		tlsHandshakes:     d("tls_handshakes_total", "TLS handshakes by outcome: completed, failed, timed_out (also counted as failed), refused (over the cap in flight).", "outcome"),
		tlsInFlight:       d("tls_handshakes_in_flight", "TLS handshakes running now (each one a goroutine)."),
		tlsVersions:       d("tls_sessions_total", "Completed TLS handshakes by version.", "version"),
		tlsALPN:           d("tls_alpn_total", "Completed TLS handshakes by ALPN outcome (none: the client offered nothing the server speaks).", "protocol"),
		tlsDuration:       d("tls_handshake_seconds", "Time of completed TLS handshakes, from the client's first bytes."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.requests, c.upgrades, c.messages, c.bytes,
		c.dropped, c.h2Streams, c.errors, c.paused, c.yields, c.handshakeDuration, c.websocketsOpen,
		c.responses, c.requestDuration,
		c.tlsHandshakes, c.tlsInFlight, c.tlsVersions, c.tlsALPN, c.tlsDuration} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	for _, m := range c.more {
		addStats(&st, m.Stats())
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	for proto, n := range st.Open {
		gauge(c.open, float64(n), proto)
	}
	gauge(c.websocketsOpen, float64(st.Open["websocket"]), "h1")
	gauge(c.websocketsOpen, float64(st.OpenOnStreams["websocket"]), "h2")
	counter(c.requests, st.Requests)
	for o, n := range st.Outcomes {
		counter(c.upgrades, n, strconv.Itoa(o.Status), o.Reason)
	}
	counter(c.messages, st.MessagesIn, "in")
	counter(c.messages, st.MessagesOut, "out")
	counter(c.bytes, st.BytesIn, "in")
	counter(c.bytes, st.BytesOut, "out")
	counter(c.dropped, st.Dropped)
	counter(c.h2Streams, st.Streams)
	counter(c.paused, st.Paused)
	counter(c.yields, st.Yields)
	for code, n := range st.Errors {
		counter(c.errors, n, code)
	}
	ch <- durationHistogram(c.handshakeDuration, st.HandshakeBuckets, st.HandshakeCounts, st.HandshakeSum)
	for proto, counts := range st.Responses {
		for class := 1; class < len(counts); class++ { // counts[0] is unused: indexes are status/100
			counter(c.responses, counts[class], proto, strconv.Itoa(class)+"xx")
		}
	}
	for proto, counts := range st.RequestCounts {
		ch <- durationHistogram(c.requestDuration, st.RequestBuckets, counts, st.RequestSum[proto], proto)
	}
	c.collectTLS(ch)
}

// addStats adds b's counters to a's.
func addStats(a *server.Stats, b server.Stats) {
	for k, v := range b.Open {
		a.Open[k] += v
	}
	for k, v := range b.OpenOnStreams {
		a.OpenOnStreams[k] += v
	}
	for k, v := range b.Outcomes {
		a.Outcomes[k] += v
	}
	for k, v := range b.Errors {
		a.Errors[k] += v
	}
	a.Requests += b.Requests
	a.MessagesIn, a.MessagesOut = a.MessagesIn+b.MessagesIn, a.MessagesOut+b.MessagesOut
	a.BytesIn, a.BytesOut = a.BytesIn+b.BytesIn, a.BytesOut+b.BytesOut
	a.Dropped += b.Dropped
	a.Streams += b.Streams
	a.Paused += b.Paused
	a.Yields += b.Yields
	for i := range a.HandshakeCounts {
		a.HandshakeCounts[i] += b.HandshakeCounts[i]
	}
	a.HandshakeSum += b.HandshakeSum
	for proto, counts := range b.Responses {
		sum := a.Responses[proto]
		for k := range sum {
			sum[k] += counts[k]
		}
		a.Responses[proto] = sum
	}
	for proto, counts := range b.RequestCounts {
		for i := range counts {
			a.RequestCounts[proto][i] += counts[i]
		}
		a.RequestSum[proto] += b.RequestSum[proto]
	}
}

// collectTLS exports Server.TLSStats summed over the TLS servers; nothing when none is.
func (c *Collector) collectTLS(ch chan<- prometheus.Metric) {
	var ts server.TLSStats
	found := false
	for _, s := range append([]*server.Server{c.srv}, c.more...) {
		if s.Config().TLS == nil {
			continue
		}
		st := s.TLSStats()
		if !found {
			ts, found = st, true
			continue
		}
		ts.InFlight += st.InFlight
		ts.Completed += st.Completed
		ts.Failed += st.Failed
		ts.TimedOut += st.TimedOut
		ts.Refused += st.Refused
		ts.TLS12 += st.TLS12
		ts.TLS13 += st.TLS13
		ts.ALPNH2 += st.ALPNH2
		ts.ALPNHTTP11 += st.ALPNHTTP11
		ts.ALPNNone += st.ALPNNone
		for i := range ts.Counts {
			ts.Counts[i] += st.Counts[i]
		}
		ts.Sum += st.Sum
	}
	if !found {
		return
	}
	counter := func(d *prometheus.Desc, v int64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	counter(c.tlsHandshakes, ts.Completed, "completed")
	counter(c.tlsHandshakes, ts.Failed, "failed")
	counter(c.tlsHandshakes, ts.TimedOut, "timed_out")
	counter(c.tlsHandshakes, ts.Refused, "refused")
	ch <- prometheus.MustNewConstMetric(c.tlsInFlight, prometheus.GaugeValue, float64(ts.InFlight))
	counter(c.tlsVersions, ts.TLS12, "1.2")
	counter(c.tlsVersions, ts.TLS13, "1.3")
	counter(c.tlsALPN, ts.ALPNH2, "h2")
	counter(c.tlsALPN, ts.ALPNHTTP11, "http/1.1")
	counter(c.tlsALPN, ts.ALPNNone, "none")
	ch <- durationHistogram(c.tlsDuration, ts.Buckets, ts.Counts, ts.Sum)
}

// durationHistogram is a histogram of the server's (upper bounds, counts per bucket with
// one more for +Inf, sum) as Prometheus wants it: cumulative counts keyed by seconds,
// with desc's label values.
func durationHistogram(desc *prometheus.Desc, bounds []time.Duration, counts []uint64, sum time.Duration, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var total uint64
	for i, ub := range bounds {
		total += counts[i]
		buckets[ub.Seconds()] = total
	}
	total += counts[len(bounds)]
	return prometheus.MustNewConstHistogram(desc, total, sum.Seconds(), buckets, labels...)
}
