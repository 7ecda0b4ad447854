package server

import (
	"sync/atomic"
	"time"
)

// responseProtos name the protocols responses are counted under, by index (major
// version - 1): HTTP/1.0 counts as HTTP/1.1, so that the label set stays fixed.
var responseProtos = [...]string{"HTTP/1.1", "HTTP/2.0"}

// requestStats are one loop's per-request counters (Stats.Responses, Stats.RequestCounts),
// kept at the points where the access log writes its lines: only the loop adds to them.
type requestStats struct {
	responses [len(responseProtos)][6]atomic.Uint64 // by protocol and status/100
	durations [len(responseProtos)]histogram
}

// CountResponse counts the response, with status, queued for an HTTP request of major
// version major (1 or 2), and times it from from, the Conn.Now reading when the request
// began (0: not timed), to at, the reading when its response was queued (0: now).
// Protocols pass readings they took anyway (a deadline's, the Date field's:
// Server.DateAt), so that timing costs no clock read of its own on the hot path. Call it
// where the response is queued, once per answered request, like LogAccess. Loop only.
func (c *Conn) CountResponse(major, status int, from, at int64) {
	rs := &c.loop.stats.requests
	p := min(max(major, 1), len(responseProtos)) - 1
	rs.responses[p][min(max(status/100, 1), 5)].Add(1) // bounded whatever a handler or upgrader set
	if from != 0 {
		if at == 0 {
			at = c.Now()
		}
		rs.durations[p].observe(time.Duration(at - from))
	}
}

// initRequests makes st's per-request maps with every protocol in them, so that their
// series exist, at zero, before the first request.
func (st *Stats) initRequests() {
	st.Responses = make(map[string][6]uint64, len(responseProtos))
	st.RequestBuckets = handshakeBuckets[:]
	st.RequestCounts = make(map[string][]uint64, len(responseProtos))
	st.RequestSum = make(map[string]time.Duration, len(responseProtos))
	for _, name := range responseProtos {
		st.Responses[name] = [6]uint64{}
		st.RequestCounts[name] = make([]uint64, len(handshakeBuckets)+1)
		st.RequestSum[name] = 0
	}
}

// addTo adds the loop's counters to st's (Server.Stats).
func (rs *requestStats) addTo(st *Stats) {
	for p, name := range responseProtos {
		counts := st.Responses[name]
		for k := range counts {
			counts[k] += rs.responses[p][k].Load()
		}
		st.Responses[name] = counts
		d := &rs.durations[p]
		for i := range d.buckets {
			st.RequestCounts[name][i] += d.buckets[i].Load()
		}
		st.RequestSum[name] += time.Duration(d.sumNs.Load())
	}
}
