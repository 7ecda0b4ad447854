package server

import (
	"math/bits"
	"time"
)

// wheel is a loop's coarse timing wheel: one intrusive list per slot, so a connection's
// timeout costs no goroutine, no timer object and no allocation, and moving a deadline is
// O(1). Moving one later, which every message does (the idle or ping deadline), touches
// no list: the connection stays filed where it was, and the wheel re-files it when it
// reaches that slot. Unlinking and linking would touch two neighbouring connections, cache
// misses that show at tens of thousands of connections. It is only touched from its loop's
// goroutine.
//
// Nothing turns the wheel on a fixed tick: it asks its loop (arm) to be advanced at the
// next tick that has a connection filed, so a loop with no deadline due sleeps, and the
// wheel's cost follows the deadlines that come due, not the clock or the number of
// connections.
type wheel struct {
	slots  [wheelSlots]*Conn
	used   [wheelSlots / 64]uint64 // bit s: slots[s] is not empty
	cursor int64                   // the last tick processed
	armed  int64                   // the tick arm was last asked for; 0: none pending
	// arm asks for advance to run once tick has begun (nil: the owner advances the
	// wheel itself, as tests do).
	arm func(tick int64)
}

const (
	wheelSlots = 256
	wheelTick  = 250 * time.Millisecond // granularity of every timeout
)

func tickOf(nanos int64) int64 { return nanos / int64(wheelTick) }

// slotOf files a deadline under the first tick that starts at or after it, so that when the
// wheel reaches that tick the deadline has passed. (Filing it under the tick it falls in
// would reach it too early, and then not again for a whole revolution.)
func slotOf(deadline int64) int64 {
	return tickOf(deadline+int64(wheelTick)-1) % wheelSlots
}

// dueTick is the tick under which a deadline is filed (see slotOf).
func dueTick(deadline int64) int64 { return tickOf(deadline + int64(wheelTick) - 1) }

func (w *wheel) add(c *Conn) {
	s := slotOf(c.deadline)
	slot := &w.slots[s]
	c.wprev, c.wnext = nil, *slot
	if *slot != nil {
		(*slot).wprev = c
	}
	*slot = c
	c.inWheel, c.wslot = true, uint8(s)
	w.used[s>>6] |= 1 << (s & 63)
	if t := max(dueTick(c.deadline), w.cursor+1); w.arm != nil && (w.armed == 0 || t < w.armed) {
		w.armed = t
		w.arm(t)
	}
}

// set gives c the deadline (unix nanoseconds), filing it or leaving it filed earlier.
func (w *wheel) set(c *Conn, deadline int64) {
	if c.inWheel && deadline >= c.deadline {
		c.deadline = deadline // filed no later than due: advance re-files it
		return
	}
	w.remove(c)
	c.deadline = deadline
	w.add(c)
}

func (w *wheel) remove(c *Conn) {
	if !c.inWheel {
		return
	}
	if c.wprev != nil {
		c.wprev.wnext = c.wnext
	} else {
		w.slots[c.wslot] = c.wnext
		if c.wnext == nil {
			w.used[c.wslot>>6] &^= 1 << (c.wslot & 63)
		}
	}
	if c.wnext != nil {
		c.wnext.wprev = c.wprev
	}
	c.wprev, c.wnext, c.inWheel = nil, nil, false
}

// advance expires every connection whose deadline is at or before now, and re-files
// those whose deadline moved later. A deadline more than one revolution away shares a
// slot with nearer ones and is skipped until due.
func (w *wheel) advance(now int64, expire func(*Conn)) {
	to := tickOf(now)
	from := w.cursor + 1
	if w.cursor == 0 || to-from >= wheelSlots {
		from = to - wheelSlots + 1
	}
	for t := from; t <= to; t++ {
		c := w.slots[t%wheelSlots]
		for c != nil {
			next := c.wnext
			switch {
			case c.deadline <= now:
				w.remove(c)
				expire(c)
			case int64(c.wslot) != slotOf(c.deadline):
				w.remove(c)
				w.add(c)
			}
			c = next
		}
	}
	w.cursor = to
	w.armed = 0
	if t, ok := w.next(); ok && w.arm != nil {
		w.armed = t
		w.arm(t)
	}
}

// next is the first tick after the cursor whose slot has a connection filed.
func (w *wheel) next() (int64, bool) {
	from := (w.cursor + 1) % wheelSlots
	for i := int64(0); i < wheelSlots; {
		s := (from + i) % wheelSlots
		word := w.used[s>>6] >> (s & 63) // the slots from s to the end of its word
		if word != 0 {
			i += int64(bits.TrailingZeros64(word))
			return w.cursor + 1 + i, true
		}
		i += 64 - s&63
	}
	return 0, false
}
