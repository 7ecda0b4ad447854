package server

import (
	"sync/atomic"
	"time"
)

// clock is the coarse time every loop reads on its hot path instead of calling time.Now:
// deadlines only need the wheel's granularity. It advances with the monotonic clock, so
// a wall clock stepping back cannot stop every timeout. It also caches the Date header
// value (RFC 9110 §6.6.1), which changes once a second and is the one use of wall time.
type clock struct {
	nanos atomic.Int64
	sec   atomic.Int64
	date  atomic.Pointer[[]byte]
}

// imfFixdate is the preferred Date format of RFC 9110 §5.6.7.
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// epoch is the origin of clock.nanos: the wall time at start, advanced by the monotonic
// clock (time.Time.Sub uses the monotonic readings of both times).
var epoch = time.Now()

func (c *clock) update(now time.Time) {
	c.nanos.Store(epoch.UnixNano() + int64(now.Sub(epoch)))
	sec := now.Unix()
	if c.date.Load() != nil && c.sec.Load() == sec {
		return
	}
	b := now.UTC().AppendFormat(make([]byte, 0, len(imfFixdate)), imfFixdate)
	c.sec.Store(sec)
	c.date.Store(&b)
}

func (c *clock) now() int64 { return c.nanos.Load() }

func (c *clock) dateHeader() []byte { return *c.date.Load() }

// Date is the current value of the Date header (RFC 9110 §6.6.1), updated once a second.
// The slice is shared: do not modify it. Safe from any goroutine.
func (s *Server) Date() []byte { return s.clock.dateHeader() }
