package server

// batch collects everything one event loop writes to the connection it is serving, so that
// pipelined responses and the frames one read produces leave in a single write or writev.
// Small pieces are copied into buf; large payloads are referenced (zero copy) while they
// are valid, which is until the end of the callback that produced them.
type batch struct {
	owner *Conn // the connection the batch is for; nil when empty
	n     int   // bytes queued
	buf   []byte
	segs  []segment
	iov   [][]byte
}

// segment is either a range of batch.buf or a reference to bytes owned by someone else.
type segment struct {
	ref        []byte
	start, end int
}

// refThreshold is the size from which a payload is referenced rather than copied: below
// it, a copy costs less than an extra iovec.
const refThreshold = 2048

func (b *batch) empty() bool { return len(b.segs) == 0 }

// grow returns the open tail of the batch, for callers that append in place:
// b.commit(append(b.grow(), ...)).
func (b *batch) grow() []byte { return b.buf }

// commit records bytes appended to buf since the last commit.
func (b *batch) commit(buf []byte) {
	start := len(b.buf)
	b.buf = buf
	b.n += len(buf) - start
	if len(buf) == start {
		return
	}
	if n := len(b.segs); n > 0 && b.segs[n-1].ref == nil && b.segs[n-1].end == start {
		b.segs[n-1].end = len(buf)
		return
	}
	b.segs = append(b.segs, segment{start: start, end: len(buf)})
}

func (b *batch) write(p []byte) { b.commit(append(b.buf, p...)) }

func (b *batch) writeString(s string) { b.commit(append(b.buf, s...)) }

// writeRef queues p without copying it; p must stay unchanged until flush.
func (b *batch) writeRef(p []byte) {
	if len(p) < refThreshold {
		b.write(p)
		return
	}
	b.n += len(p)
	b.segs = append(b.segs, segment{ref: p})
}

// vectors returns the batch as iovecs, valid until reset.
func (b *batch) vectors() [][]byte {
	b.iov = b.iov[:0]
	for i := range b.segs {
		s := &b.segs[i]
		if s.ref != nil {
			b.iov = append(b.iov, s.ref)
		} else {
			b.iov = append(b.iov, b.buf[s.start:s.end])
		}
	}
	return b.iov
}

// maxRetainedBatch bounds the memory a loop keeps between uses after a large write.
const maxRetainedBatch = 256 << 10

func (b *batch) reset() {
	b.owner, b.n = nil, 0
	for i := range b.iov {
		b.iov[i] = nil
	}
	for i := range b.segs {
		b.segs[i].ref = nil
	}
	b.segs = b.segs[:0]
	if cap(b.buf) > maxRetainedBatch {
		b.buf = nil
	}
	b.buf = b.buf[:0]
}
