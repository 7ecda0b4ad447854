package admin

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-dev/switchyard/server/topics/natstopics"
)

// The rooms' counters appear on /metrics beside the server's, with their values.
func TestRoomsCountersOnMetrics(t *testing.T) {
	srv := startServer(t)
	stats := natstopics.Stats{Published: 7, QueueDropped: 1, Refused: 2, Gaps: 3, Reconnects: 4, Connected: true}
	h := HandlerWith([]prometheus.Collector{NewRoomsCollector(func() natstopics.Stats { return stats })}, srv)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"switchyard_rooms_published_total 7\n", "switchyard_rooms_queue_dropped_total 1\n",
		"switchyard_rooms_refused_total 2\n", "switchyard_rooms_gaps_total 3\n",
		"switchyard_rooms_reconnects_total 4\n", "switchyard_rooms_nats_connected 1\n",
		"switchyard_http_requests_total", // the server's own are still there
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
