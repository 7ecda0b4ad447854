package server

import (
	"sync/atomic"
	"time"
)

// clock is the coarse time every loop reads on its hot path instead of calling time.Now:
// deadlines only need the wheel's granularity. It also caches the Date header value
// (RFC 9110 §6.6.1), which changes once a second.
type clock struct {
	nanos atomic.Int64
	sec   atomic.Int64
	date  atomic.Pointer[[]byte]
}

// imfFixdate is the preferred Date format of RFC 9110 §5.6.7.
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

func (c *clock) update(now time.Time) {
	c.nanos.Store(now.UnixNano())
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
