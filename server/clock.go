package server

import (
	"sync/atomic"
	"time"
)

// clock is the time deadlines are reckoned in: nanoseconds from the wall time at start,
// advanced by the monotonic clock, so a wall clock stepping back cannot stop every
// timeout. It is read afresh each time (time.Since of a monotonic origin is one vDSO
// call): nothing ticks to keep a cached copy current, so an idle server has no reason to
// wake. It also caches the Date header value (RFC 9110 §6.6.1), which changes once a
// second and is the one use of wall time.
type clock struct {
	sec  atomic.Int64
	date atomic.Pointer[[]byte]
}

// imfFixdate is the preferred Date format of RFC 9110 §5.6.7.
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// epoch is the origin of the clock: the wall time at start; epochNanos is its reading.
var (
	epoch      = time.Now()
	epochNanos = epoch.UnixNano()
)

// at is the clock's reading at t, by t's monotonic reading (time.Time.Sub uses the
// monotonic readings of both times).
func (c *clock) at(t time.Time) int64 { return epochNanos + int64(t.Sub(epoch)) }

// now is the clock's reading now.
func (c *clock) now() int64 { return epochNanos + int64(time.Since(epoch)) }

// update sets the Date header for the wall time of now, if its second changed.
func (c *clock) update(now time.Time) {
	sec := now.Unix()
	if c.date.Load() != nil && c.sec.Load() == sec {
		return
	}
	b := now.UTC().AppendFormat(make([]byte, 0, len(imfFixdate)), imfFixdate)
	c.sec.Store(sec)
	c.date.Store(&b)
}

// dateHeader is the Date header's value now.
func (c *clock) dateHeader() []byte {
	c.update(time.Now())
	return *c.date.Load()
}

// dateHeaderAt is dateHeader and the clock's reading at the same instant: a protocol
// that writes Date anyway learns when its response left without reading the clock again.
func (c *clock) dateHeaderAt() ([]byte, int64) {
	t := time.Now()
	c.update(t)
	return *c.date.Load(), c.at(t)
}

// DateAt is Date and the clock's reading (Conn.Now's) when it was taken, which
// Conn.CountResponse takes as the response's time. Safe from any goroutine.
func (s *Server) DateAt() (date []byte, at int64) { return s.clock.dateHeaderAt() }

// Date is the current value of the Date header (RFC 9110 §6.6.1), updated once a second.
// The slice is shared: do not modify it. Safe from any goroutine.
func (s *Server) Date() []byte { return s.clock.dateHeader() }
