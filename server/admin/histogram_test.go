package admin

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestDurationHistogram: the server's per-bucket counts become Prometheus's cumulative
// ones, keyed by seconds, with the last count (above every bound) only in the total.
func TestDurationHistogram(t *testing.T) {
	desc := prometheus.NewDesc("h_seconds", "h", nil, nil)
	bounds := []time.Duration{time.Millisecond, 10 * time.Millisecond}
	m := durationHistogram(desc, bounds, []uint64{2, 3, 1}, 50*time.Millisecond)
	var got dto.Metric
	if err := m.Write(&got); err != nil {
		t.Fatal(err)
	}
	h := got.GetHistogram()
	if h.GetSampleCount() != 6 || h.GetSampleSum() != 0.05 {
		t.Errorf("count %d sum %v, want 6 and 0.05", h.GetSampleCount(), h.GetSampleSum())
	}
	want := map[float64]uint64{0.001: 2, 0.01: 5}
	if len(h.GetBucket()) != len(want) {
		t.Fatalf("buckets %v, want %v", h.GetBucket(), want)
	}
	for _, b := range h.GetBucket() {
		if want[b.GetUpperBound()] != b.GetCumulativeCount() {
			t.Errorf("bucket le=%v has %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want[b.GetUpperBound()])
		}
	}
}
