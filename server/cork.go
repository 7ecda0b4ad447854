package server

// Corking a multiplexed connection's turn. Each child connection (a WebSocket on an
// HTTP/2 stream) ends its own turns by flushing, which for a child means framing its
// output and writing it to the parent's socket: one write per stream event, so a read
// that carried frames for many streams cost as many system calls. While the parent's
// turn is served, the loop corks its socket instead: what the parent and its children
// write is joined, in order, into one buffer that leaves in one write at the end of the
// turn. It costs one copy of the output, and only on connections that carry children
// (SetMultiplexing); every other connection writes as before. Turns run elsewhere (a task,
// a timer) write at once. The cork does not count as unsent output: it leaves within the
// turn, or as soon as it reaches corkLimit, and what the socket does not take then is
// counted as ever (gnet keeps it); counting it while it waited paused streams that had
// nothing waiting once the turn ended.

// corkLimit is what a cork holds at most: past it the joined output goes to the socket
// at once, where what the kernel does not take counts against the send budget as ever.
// Without it a turn could queue more than the budget (a read of many requests with large
// answers) before any of it was counted.
const corkLimit = 64 << 10

// maxCorkRetained bounds the cork buffer a loop keeps between turns.
const maxCorkRetained = 256 << 10

// SetMultiplexing tells the core whether the connection carries child connections on its
// streams (HTTP/2 with RFC 8441 WebSockets): while it does, the writes of each of its
// turns, its children's included, leave in one write. Loop only.
func (c *Conn) SetMultiplexing(on bool) { c.multiplexing = on }

// writeSocket writes iov to c's transport, or into the cork while c's turn is corked.
func (c *Conn) writeSocket(iov [][]byte) {
	if l := c.loop; l.corked == c {
		for _, v := range iov {
			l.corkBuf = append(l.corkBuf, v...)
		}
		if len(l.corkBuf) >= corkLimit {
			_, _ = c.tr.Write(l.corkBuf)
			l.corkBuf = l.corkBuf[:0]
		}
		return
	}
	if len(iov) == 1 {
		_, _ = c.tr.Write(iov[0])
	} else {
		_, _ = c.tr.Writev(iov)
	}
}

// cork starts corking c's turn, unless a turn is corked already; it reports whether it did.
func (l *Loop) cork(c *Conn) bool {
	if !c.multiplexing || l.corked != nil {
		return false
	}
	l.corked = c
	return true
}

// uncork writes what the corked turn joined, in one write.
func (l *Loop) uncork() {
	c := l.corked
	l.corked = nil
	if len(l.corkBuf) > 0 && !c.closed {
		_, _ = c.tr.Write(l.corkBuf)
	}
	if cap(l.corkBuf) > maxCorkRetained {
		l.corkBuf = nil
	} else {
		l.corkBuf = l.corkBuf[:0]
	}
}
