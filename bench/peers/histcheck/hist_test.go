// Package histcheck holds the check of the harness's hand-written histogram
// (bench.Histogram) against hdrhistogram-go, which switchyard's go.mod does not carry.
package histcheck

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/switchyard-dev/switchyard/bench"
)

func TestHistogramMatchesHdrHistogram(t *testing.T) {
	var ours bench.Histogram
	ref := hdrhistogram.New(1, int64(time.Minute), 3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		// Log-normal latencies around 100 µs with a long tail, as echo runs have.
		v := time.Duration(float64(100*time.Microsecond) * r.ExpFloat64() * r.ExpFloat64())
		v = max(v, 1)
		ours.Record(v)
		if err := ref.RecordValue(int64(v)); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		got, want := float64(ours.Percentile(q)), float64(ref.ValueAtQuantile(q))
		if got < want*0.998 || got > want*1.002 {
			t.Errorf("p%v: ours %v, hdrhistogram %v", q, time.Duration(got), time.Duration(want))
		}
	}
}
