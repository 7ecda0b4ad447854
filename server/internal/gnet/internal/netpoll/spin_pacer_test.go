package netpoll

import (
	"testing"
	"time"
)

// The pacer spins while the loop's idle gaps are short and stops once they are long:
// each case feeds a history of gaps, then asks whether the next idle period spins.
func TestSpinPacerFollowsTheIdleGaps(t *testing.T) {
	us := time.Microsecond
	repeat := func(d time.Duration, n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	for _, tc := range []struct {
		name string
		max  int
		gaps []time.Duration
		want int
	}{
		{"fresh loop spins", 50, nil, 50},
		{"spins disabled", 0, repeat(1*us, 20), 0},
		{"saturated: gaps of a few µs", 50, repeat(3*us, 100), 50},
		{"paced: gaps of 100 µs", 50, repeat(100*us, 100), 0},
		{"idle: one long sleep", 50, []time.Duration{time.Second}, 0},
		{"one long sleep, then a burst of short gaps", 50, append([]time.Duration{time.Second}, repeat(2*us, 20)...), 50},
		{"a burst, then paced again", 50, append(repeat(2*us, 50), repeat(200*us, 20)...), 0},
		{"a single short gap after paced load is not enough", 50, append(repeat(200*us, 50), 1*us), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSpinPacer(tc.max)
			now := time.Duration(0)
			for _, g := range tc.gaps {
				p.ranOut(now)
				now += g
				p.arrived(now)
				now += 5 * us // the batch's work
			}
			if got := p.ranOut(now); got != tc.want {
				t.Fatalf("spins %d, want %d (average gap %v)", got, tc.want, p.gap)
			}
		})
	}
}

// Events that come while the loop is busy are not gaps.
func TestSpinPacerIgnoresArrivalsWhileBusy(t *testing.T) {
	p := newSpinPacer(50)
	for i := 0; i < 100; i++ {
		p.arrived(time.Duration(i) * time.Second)
	}
	if p.gap != 0 {
		t.Fatalf("gap %v from arrivals without an idle period", p.gap)
	}
}
