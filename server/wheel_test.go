package server

import (
	"testing"
	"time"
)

func TestWheelExpiresEachDeadlineOnceItHasPassed(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	cases := []struct {
		name   string
		offset time.Duration
	}{
		{"mid-tick deadline", 300 * time.Millisecond},
		{"deadline on a tick boundary", 2 * wheelTick},
		{"deadline beyond one revolution", wheelSlots*wheelTick + 3*wheelTick/2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w wheel
			w.advance(base, func(*Conn) {})
			c := &Conn{deadline: base + int64(tc.offset)}
			w.add(c)
			expired := 0
			for now := base; now <= base+int64(tc.offset+2*wheelTick); now += int64(wheelTick / 5) {
				w.advance(now, func(x *Conn) {
					if now < x.deadline {
						t.Fatalf("expired %v early", time.Duration(x.deadline-now))
					}
					if late := time.Duration(now - x.deadline); late > wheelTick+wheelTick/5 {
						t.Fatalf("expired %v late", late)
					}
					expired++
				})
			}
			if expired != 1 {
				t.Fatalf("expired %d times, want once", expired)
			}
		})
	}
}

func TestWheelRemoveUnlinksFromAnySlotPosition(t *testing.T) {
	var w wheel
	d := time.Now().UnixNano()
	a, b, c := &Conn{deadline: d}, &Conn{deadline: d}, &Conn{deadline: d}
	w.add(a)
	w.add(b)
	w.add(c)
	w.remove(b) // middle
	w.remove(c) // head
	got := 0
	w.advance(d+int64(wheelTick), func(x *Conn) {
		if x != a {
			t.Fatalf("a removed connection expired")
		}
		got++
	})
	if got != 1 {
		t.Fatalf("expired %d, want 1", got)
	}
}

// Moving a deadline later leaves the connection filed where it was; the wheel must still
// expire it at the new deadline, neither at the old one nor a revolution late, and
// moving it earlier must take effect at once.
func TestWheelDeadlineMovedLaterOrEarlier(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	cases := []struct {
		name  string
		moves []time.Duration // successive deadlines, each set at the start
		want  time.Duration   // the last one
	}{
		{"later within the revolution", []time.Duration{time.Second, 3 * time.Second}, 3 * time.Second},
		{"later many times", []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 9 * time.Second}, 9 * time.Second},
		{"later by more than a revolution", []time.Duration{time.Second, wheelSlots*wheelTick + 2*time.Second}, wheelSlots*wheelTick + 2*time.Second},
		{"earlier", []time.Duration{10 * time.Second, 2 * time.Second}, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w wheel
			w.advance(base, func(*Conn) {})
			c := &Conn{}
			for _, d := range tc.moves {
				w.set(c, base+int64(d))
			}
			var at int64
			end := base + int64(tc.want+2*wheelTick)
			for now := base; now <= end; now += int64(wheelTick / 5) {
				w.advance(now, func(x *Conn) {
					if at != 0 {
						t.Fatalf("expired twice")
					}
					at = now
				})
			}
			switch want := base + int64(tc.want); {
			case at == 0:
				t.Fatalf("never expired")
			case at < want:
				t.Fatalf("expired %v early", time.Duration(want-at))
			case at-want > int64(wheelTick+wheelTick/5):
				t.Fatalf("expired %v late", time.Duration(at-want))
			}
		})
	}
}

// The wheel asks to be advanced at the next tick that has a connection filed, and at no
// other: an empty wheel asks nothing, an earlier deadline moves the request earlier, and
// each advance asks for the next filed tick.
func TestWheelArmsOnlyForFiledTicks(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	tick := func(d time.Duration) int64 { return dueTick(base + int64(d)) }
	var asked []int64
	w := wheel{arm: func(t int64) { asked = append(asked, t) }}
	w.advance(base, func(*Conn) {})
	if len(asked) != 0 {
		t.Fatalf("an empty wheel asked for ticks %v", asked)
	}
	late, early := &Conn{deadline: base + int64(10*time.Second)}, &Conn{deadline: base + int64(2*time.Second)}
	w.add(late)
	w.add(early)
	w.add(&Conn{deadline: base + int64(20*time.Second)}) // later than what is asked: no new request
	if want := []int64{tick(10 * time.Second), tick(2 * time.Second)}; !equalTicks(asked, want) {
		t.Fatalf("asked %v, want %v", asked, want)
	}
	asked = nil
	var expired []*Conn
	w.advance(base+int64(2*time.Second), func(c *Conn) { expired = append(expired, c) })
	if len(expired) != 1 || expired[0] != early {
		t.Fatalf("expired %v, want the early connection", expired)
	}
	if want := []int64{tick(10 * time.Second)}; !equalTicks(asked, want) {
		t.Fatalf("after the first expiry, asked %v, want %v", asked, want)
	}
	asked = nil
	w.remove(late)
	w.advance(base+int64(10*time.Second), func(*Conn) {})
	if want := []int64{tick(20 * time.Second)}; !equalTicks(asked, want) {
		t.Fatalf("after removing the 10 s deadline, asked %v, want %v", asked, want)
	}
	// A deadline more than a revolution away shares a slot with nearer ticks: the wheel
	// asks for that slot's next turn, which re-files it, and so on until it is due.
	asked = nil
	var far wheel
	far.arm = func(t int64) { asked = append(asked, t) }
	far.advance(base, func(*Conn) {})
	far.add(&Conn{deadline: base + int64(wheelSlots*wheelTick+wheelTick)})
	if len(asked) != 1 || asked[0] != tick(wheelSlots*wheelTick+wheelTick) {
		t.Fatalf("far deadline: asked %v", asked)
	}
}

func equalTicks(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
