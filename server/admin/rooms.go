package admin

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-dev/switchyard/server/topics/natstopics"
)

// RoomsCollector exports the counters of the NATS engine behind rooms that span nodes
// (switchyard_rooms_*).
type RoomsCollector struct {
	stats func() natstopics.Stats
	descs map[string]*prometheus.Desc
}

var roomCounters = []struct{ name, help string }{
	{"published_total", "Messages this node handed to NATS."},
	{"queue_dropped_total", "Messages this node dropped: its NATS publish queue was full."},
	{"refused_total", "Messages NATS refused from this node (reconnect buffer full, too large)."},
	{"received_total", "Messages from other nodes delivered to this node's rooms."},
	{"gaps_total", "Messages from other nodes that never arrived (skipped sequence numbers)."},
	{"duplicates_total", "Messages from other nodes that arrived again or out of order, dropped."},
	{"malformed_total", "Messages on the rooms' subjects in no format this node reads."},
	{"slow_consumer_total", "Times NATS dropped messages for this node for falling behind."},
	{"disconnects_total", "Disconnections from NATS."},
	{"reconnects_total", "Reconnections to NATS."},
}

// NewRoomsCollector reads stats (natstopics.Engine.Stats) at each scrape.
func NewRoomsCollector(stats func() natstopics.Stats) *RoomsCollector {
	c := &RoomsCollector{stats: stats, descs: make(map[string]*prometheus.Desc)}
	for _, rc := range roomCounters {
		c.descs[rc.name] = prometheus.NewDesc("switchyard_rooms_"+rc.name, rc.help, nil, nil)
	}
	c.descs["connected"] = prometheus.NewDesc("switchyard_rooms_nats_connected", "1 while connected to NATS.", nil, nil)
	return c
}

func (c *RoomsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *RoomsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	values := map[string]uint64{
		"published_total": s.Published, "queue_dropped_total": s.QueueDropped, "refused_total": s.Refused,
		"received_total": s.Received, "gaps_total": s.Gaps, "duplicates_total": s.Duplicates,
		"malformed_total": s.Malformed, "slow_consumer_total": s.SlowConsumer,
		"disconnects_total": s.Disconnects, "reconnects_total": s.Reconnects,
	}
	for name, v := range values {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v))
	}
	connected := 0.0
	if s.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(c.descs["connected"], prometheus.GaugeValue, connected)
}
