package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestHistogramIndexRoundTripsWithinAThousandth(t *testing.T) {
	for _, v := range []int64{0, 1, 2047, 2048, 2049, 4095, 4096, 1e6, 123456789, 6e10} {
		got := histValue(histIndex(v))
		if got < v || float64(got-v) > float64(v)/1000+1 {
			t.Errorf("value %d maps back to %d", v, got)
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ { // 1..1000 µs
		h.Record(time.Duration(i) * time.Microsecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{50, 500 * time.Microsecond}, {90, 900 * time.Microsecond}, {99, 990 * time.Microsecond}, {99.9, 999 * time.Microsecond}, {100, 1000 * time.Microsecond}}
	for _, c := range cases {
		got := h.Percentile(c.q)
		if d := got - c.want; d < 0 || float64(d) > float64(c.want)/1000 {
			t.Errorf("p%v = %v, want %v within 0.1%%", c.q, got, c.want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Millisecond {
		t.Errorf("count %d max %v", h.Count(), h.Max())
	}
}

func TestHistogramRandomAgainstSort(t *testing.T) {
	var h Histogram
	vals := make([]time.Duration, 100000)
	for i := range vals {
		vals[i] = time.Duration(rand.ExpFloat64() * float64(200*time.Microsecond))
		h.Record(vals[i])
	}
	sorted := append([]time.Duration(nil), vals...)
	slicesSort(sorted)
	for _, q := range []float64{50, 90, 99, 99.9} {
		exact := sorted[int(q/100*float64(len(sorted)))-1]
		got := h.Percentile(q)
		if float64(got) < float64(exact)*0.999-1 || float64(got) > float64(exact)*1.001+1 {
			t.Errorf("p%v = %v, exact %v", q, got, exact)
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * time.Nanosecond)
	}
}
