package netpoll

import "time"

// spinPacer decides, each time a loop runs out of events, whether it polls again a few
// times (spins) before it sleeps in the kernel (Switchyard patch; see SetIdleSpins).
//
// A spin pays when the next event comes within it: the loop takes it without the sleep,
// the wakeup the sender pays and the Go runtime's hand-off of the loop's P, all of which
// cost microseconds of CPU. It is waste when the next event is further away than the
// spin lasts: under paced load (thousands of connections, each sending now and then)
// every event would be followed by a spin that finds nothing, which tripled the CPU
// per message of a fixed spin count. So the pacer keeps a moving average of the gap
// between the moment the loop ran out of events and the next event, and spins only
// while that gap is short: a saturated loop keeps spinning, a paced or idle one
// sleeps at once. The clock is read twice per idle period, never per event.
type spinPacer struct {
	max    int           // spins at most (0: never)
	gap    time.Duration // moving average of idle gaps, each clamped to gapClamp
	idleAt time.Duration // when the loop last ran out of events; < 0 while busy
}

const (
	// spinBelowGap is the average idle gap under which a loop spins: about what a
	// sleep and a wakeup cost in CPU, so that a spin is expected to cost less than the
	// sleep it avoids.
	spinBelowGap = 20 * time.Microsecond
	// gapClamp bounds one gap's weight, so that after a long idle period a few short
	// gaps bring the average back under spinBelowGap (about 15 from the clamp).
	gapClamp = time.Millisecond
	// gapShift weights the newest gap 1/8 in the average.
	gapShift = 3
)

func newSpinPacer(maxSpins int) spinPacer {
	return spinPacer{max: max(maxSpins, 0), idleAt: -1}
}

// now is a monotonic reading (time.Since uses the monotonic clock), from one origin for
// every loop, so that hold_linux.go can compare the loops' readings.
func (s *spinPacer) now() time.Duration { return time.Since(epoch) }

var epoch = time.Now()

// ranOut records that the loop found no event at now and says how many times it
// should poll again before it sleeps.
func (s *spinPacer) ranOut(now time.Duration) int {
	s.idleAt = now
	if s.max > 0 && s.gap < spinBelowGap {
		return s.max
	}
	return 0
}

// arrived records that events came at now, after the loop had run out of them, and
// returns how long it went without (0 if it had not run out).
func (s *spinPacer) arrived(now time.Duration) time.Duration {
	if s.idleAt < 0 {
		return 0
	}
	g := now - s.idleAt
	s.gap += (min(g, gapClamp) - s.gap) >> gapShift
	s.idleAt = -1
	return g
}
