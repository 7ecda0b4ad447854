package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records latencies with HdrHistogram's layout: values below 2048 ns are kept
// exactly, larger ones in buckets 1/1024 of their power of two wide, so any recorded value
// is reproduced within 0.1% (three significant digits) from 1 ns to hours in 54k counters.
//
// It is hand-written rather than hdrhistogram-go because switchyard's own go.mod carries
// no benchmark dependencies; bench/peers checks it against hdrhistogram-go
// (TestHistogramMatchesHdrHistogram). Record is safe from any goroutine: the counters are
// atomic, so the client's event loops share one histogram without a lock.
type Histogram struct {
	counts [histBuckets * histHalf]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
}

const (
	histSubBits = 11 // 2048 sub-buckets: 3 significant digits
	histHalf    = 1 << (histSubBits - 1)
	histBuckets = 64 - histSubBits + 2
)

func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	shift := bits.Len64(u) - histSubBits
	if shift <= 0 {
		return int(u)
	}
	return shift*histHalf + int(u>>uint(shift))
}

// histValue is the highest value that maps to index i, as HdrHistogram reports it.
func histValue(i int) int64 {
	if i < 2*histHalf {
		return int64(i)
	}
	shift := i/histHalf - 1
	sub := i - shift*histHalf
	return int64((uint64(sub+1) << uint(shift)) - 1)
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[histIndex(v)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest observation.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Percentile returns the value below or at which q percent (0 < q <= 100) of the
// observations fall; 0 when there are none.
func (h *Histogram) Percentile(q float64) time.Duration {
	total := h.total.Load()
	if total == 0 {
		return 0
	}
	// The rank of the q-th percentile, rounded up; the epsilon keeps 99.9% of 1000 from
	// becoming 1000 through floating-point error.
	target := uint64(math.Ceil(q/100*float64(total) - 1e-9))
	target = max(target, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= target {
			v := histValue(i)
			if m := h.max.Load(); v > m {
				v = m
			}
			return time.Duration(v)
		}
	}
	return h.Max()
}

// Mean is the average observation (by bucket value).
func (h *Histogram) Mean() time.Duration {
	total := h.total.Load()
	if total == 0 {
		return 0
	}
	var sum float64
	for i := range h.counts {
		if n := h.counts[i].Load(); n > 0 {
			sum += float64(n) * float64(histValue(i))
		}
	}
	return time.Duration(sum / float64(total))
}

// Latency is a summary of a histogram for reports.
type Latency struct {
	P50  Micros `json:"p50_us"`
	P90  Micros `json:"p90_us"`
	P99  Micros `json:"p99_us"`
	P999 Micros `json:"p999_us"`
	Max  Micros `json:"max_us"`
	Mean Micros `json:"mean_us"`
	N    uint64 `json:"samples"`
}

// Micros is a duration in microseconds, for JSON and tables.
type Micros float64

func micros(d time.Duration) Micros { return Micros(float64(d) / 1e3) }

// Summary reads the percentiles the reports quote.
func (h *Histogram) Summary() Latency {
	return Latency{
		P50: micros(h.Percentile(50)), P90: micros(h.Percentile(90)),
		P99: micros(h.Percentile(99)), P999: micros(h.Percentile(99.9)),
		Max: micros(h.Max()), Mean: micros(h.Mean()), N: h.Count(),
	}
}
