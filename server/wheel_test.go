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
