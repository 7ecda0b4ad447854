package server

import (
	"testing"
	"time"
	"unsafe"
)

// wallSteppedBack returns now with its wall-clock reading moved back by whole seconds
// and its monotonic reading unchanged: what time.Now returns after NTP or an
// administrator steps the system clock back by d. It writes time.Time's wall field (bit
// 63: has a monotonic reading; bits 30-62: seconds since 1885 when it has; ext: the
// monotonic reading) and checks the result, so a change of that layout fails the test
// loudly instead of testing nothing.
func wallSteppedBack(t *testing.T, now time.Time, d time.Duration) time.Time {
	t.Helper()
	if d%time.Second != 0 || d <= 0 {
		t.Fatalf("step %v: whole seconds only", d)
	}
	type timeLayout struct {
		wall uint64
		ext  int64
		loc  *time.Location
	}
	if unsafe.Sizeof(now) != unsafe.Sizeof(timeLayout{}) {
		t.Fatal("time.Time's layout changed")
	}
	stepped := now
	l := (*timeLayout)(unsafe.Pointer(&stepped))
	if l.wall&(1<<63) == 0 {
		t.Fatal("now has no monotonic reading")
	}
	l.wall -= uint64(d/time.Second) << 30
	if !stepped.Round(0).Equal(now.Round(0).Add(-d)) || stepped.Sub(now) != 0 {
		t.Fatalf("time.Time's layout changed: stepped wall %v (want %v), monotonic difference %v (want 0)",
			stepped.Round(0), now.Round(0).Add(-d), stepped.Sub(now))
	}
	return stepped
}

// Issue 14, item 12: the wheel's clock advances with the monotonic clock. Five seconds
// pass while the wall clock is stepped back an hour; a deadline one second after the
// start must still expire, and the clock must have moved by exactly the five seconds.
// A clock taken from wall time (now.UnixNano(), or time.Now().UnixNano() ignoring the
// reading it is given) would go back an hour, or not move, and the wheel would expire
// nothing until the wall clock caught up.
func TestClockStepBackDoesNotStopTimeouts(t *testing.T) {
	start := time.Now()
	var c clock
	t0 := c.at(start)

	var w wheel
	w.advance(t0, func(*Conn) { t.Fatal("nothing is due yet") })
	conn := &Conn{deadline: t0 + int64(time.Second)}
	w.add(conn)

	later := wallSteppedBack(t, start.Add(5*time.Second), time.Hour)
	if got := time.Duration(c.at(later) - t0); got != 5*time.Second {
		t.Errorf("the clock moved by %v while the monotonic clock moved by 5s (the wall clock by %v)",
			got, later.Round(0).Sub(start.Round(0)))
	}
	expired := 0
	w.advance(c.at(later), func(x *Conn) {
		if x != conn {
			t.Fatalf("expired %p, want %p", x, conn)
		}
		expired++
	})
	if expired != 1 {
		t.Fatalf("the deadline 1s after the start expired %d times 5s later by the monotonic clock, with the wall clock stepped back an hour; want once", expired)
	}
	// The Date header is the clock's one use of wall time: it shows the stepped clock.
	c.update(later)
	if got, want := string(*c.date.Load()), later.UTC().Format(imfFixdate); got != want {
		t.Fatalf("Date %q, want the wall clock's %q", got, want)
	}
}
