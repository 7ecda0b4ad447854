package admin

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-dev/switchyard/server"
)

// Collector exports server.Stats as Prometheus metrics. It reads the server's own
// counters at scrape time, so the server's hot paths pay nothing for Prometheus.
type Collector struct {
	srv                                  *server.Server
	open, requests, upgrades             *prometheus.Desc
	messages, bytes, dropped             *prometheus.Desc
	h2Streams, errors, handshakeDuration *prometheus.Desc
	paused, yields                       *prometheus.Desc
}

// NewCollector returns a collector for srv.
func NewCollector(srv *server.Server) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("switchyard_"+name, help, labels, nil)
	}
	return &Collector{
		srv:               srv,
		open:              d("connections_open", "Open connections by protocol.", "protocol"),
		requests:          d("http_requests_total", "HTTP requests answered, over HTTP/1.1 and HTTP/2."),
		upgrades:          d("upgrade_outcomes_total", "Upgrade outcomes and refusals: status 101 with the protocol, 426 and 4xx with the reason.", "status", "reason"),
		messages:          d("websocket_messages_total", "WebSocket messages by direction.", "direction"),
		bytes:             d("websocket_bytes_total", "WebSocket payload bytes by direction.", "direction"),
		dropped:           d("websocket_messages_dropped_total", "WebSocket data messages dropped by the send budget's policy."),
		h2Streams:         d("http2_streams_total", "HTTP/2 streams opened by clients."),
		errors:            d("protocol_errors_total", "Protocol error codes sent to peers (HTTP/2's in RST_STREAM and GOAWAY).", "code"),
		paused:            d("connections_paused_total", "Times a connection's reading was paused because its peer did not read what it was sent (send budget)."),
		yields:            d("connection_yields_total", "Turns a connection ended early so that its loop's other connections run (WebSocket inflation budget)."),
		handshakeDuration: d("upgrade_handshake_seconds", "Time from an upgrade request (its first read, or its parse when it arrived whole) to the 101."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.requests, c.upgrades, c.messages, c.bytes,
		c.dropped, c.h2Streams, c.errors, c.paused, c.yields, c.handshakeDuration} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	for proto, n := range st.Open {
		gauge(c.open, float64(n), proto)
	}
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
	buckets := make(map[float64]uint64, len(st.HandshakeBuckets))
	var total uint64
	for i, ub := range st.HandshakeBuckets {
		total += st.HandshakeCounts[i]
		buckets[ub.Seconds()] = total
	}
	total += st.HandshakeCounts[len(st.HandshakeBuckets)]
	ch <- prometheus.MustNewConstHistogram(c.handshakeDuration, total, st.HandshakeSum.Seconds(), buckets)
}
